import { useEffect, useRef, useState } from 'react';
import { useResource } from '../api/hooks.js';
import { policiesApi, type LintResult, type SimulationResult } from '../api/policies.js';
import { Badge } from '../components/badge.js';
import { CodeEditor, focusLine } from '../components/code-editor.js';
import { formatTime, toJson } from '../components/format.js';
import { Empty, ErrorState, Loading, Resolved } from '../components/states.js';
import type { PageProps } from '../app.js';

function LintPanel({ result, onGoTo }: { result: LintResult | undefined; onGoTo: (line: number) => void }) {
  if (!result) return null;
  if (result.valid && result.errors.length === 0) {
    return <p className="notice notice-ok" role="status">Policy is valid.</p>;
  }
  return (
    <div className="notice notice-bad" role="alert" id="policy-errors">
      <strong>{result.errors.length} problem(s)</strong>
      <ul className="lint-list">
        {result.errors.map((issue, index) => (
          <li key={index}>
            <button type="button" className="link-button" onClick={() => onGoTo(issue.line)}>
              Line {issue.line}
              {issue.column ? `:${issue.column}` : ''}
            </button>{' '}
            {issue.message}
            {issue.code ? <code className="error-code">{issue.code}</code> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function DiffView({ from, to }: { from: number; to: number }) {
  const diff = useResource((signal) => policiesApi.diff(from, to, signal), [from, to]);
  if (diff.error) return <ErrorState error={diff.error} onRetry={diff.reload} />;
  if (!diff.data) return <Loading label="Computing diff…" />;
  return (
    <pre className="code-block diff" aria-label={`Diff from version ${from} to ${to}`}>
      {diff.data.diff.split('\n').map((line, index) => (
        <span key={index} className={line.startsWith('+') ? 'diff-add' : line.startsWith('-') ? 'diff-del' : undefined}>
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

export function PoliciesPage(_props: PageProps) {
  const versions = useResource((signal) => policiesApi.list(signal), []);
  const [source, setSource] = useState('');
  const [loadedVersion, setLoadedVersion] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [lint, setLint] = useState<LintResult | undefined>();
  const [simulation, setSimulation] = useState<SimulationResult | undefined>();
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | undefined>();
  const [diffPair, setDiffPair] = useState<[number, number] | null>(null);
  const editorRef = useRef<HTMLTextAreaElement>(null);

  const active = versions.data?.activeVersion ?? null;
  useEffect(() => {
    if (loadedVersion !== null || active === null) return;
    policiesApi.source(active).then((result) => {
      setSource(result.source);
      setLoadedVersion(result.version);
    }, () => undefined);
  }, [active, loadedVersion]);

  const run = async (label: string, action: () => Promise<void>) => {
    setBusy(label);
    setMessage(undefined);
    try {
      await action();
    } catch (error) {
      setMessage({ tone: 'bad', text: (error as Error).message });
    } finally {
      setBusy(null);
    }
  };

  const validate = () => run('validate', async () => setLint(await policiesApi.lint(source)));
  const save = () =>
    run('save', async () => {
      const result = await policiesApi.lint(source);
      setLint(result);
      if (!result.valid) return;
      const saved = await policiesApi.save(source, comment);
      setLoadedVersion(saved.version);
      setMessage({ tone: 'ok', text: `Saved as version ${saved.version} (not active yet).` });
      versions.reload();
    });
  const activate = (version: number) =>
    run(`activate-${version}`, async () => {
      await policiesApi.activate(version);
      setMessage({ tone: 'ok', text: `Version ${version} is now active.` });
      versions.reload();
    });
  const simulate = () => run('simulate', async () => setSimulation(await policiesApi.simulate(source)));
  const open = (version: number) =>
    run(`open-${version}`, async () => {
      const result = await policiesApi.source(version);
      setSource(result.source);
      setLoadedVersion(result.version);
      setLint(undefined);
    });

  const errorLines = new Set((lint?.errors ?? []).map((issue) => issue.line));
  return (
    <section aria-labelledby="policies-title">
      <div className="page-header">
        <h1 id="policies-title">Policies</h1>
        {active !== null ? <span>Active: version {active}</span> : null}
      </div>
      <div className="split split-wide-left">
        <div className="panel">
          <h2>Editor {loadedVersion !== null ? <span className="muted small">(from version {loadedVersion})</span> : null}</h2>
          <CodeEditor
            id="policy-source"
            label="Policy source (YAML)"
            value={source}
            onChange={(value) => {
              setSource(value);
              setLint(undefined);
            }}
            errorLines={errorLines}
            describedBy={lint && !lint.valid ? 'policy-errors' : undefined}
            editorRef={editorRef}
          />
          <LintPanel result={lint} onGoTo={(line) => focusLine(editorRef.current, line)} />
          {message ? <p className={`notice notice-${message.tone}`} role="status">{message.text}</p> : null}
          <label className="field">
            <span>Change note</span>
            <input value={comment} onChange={(event) => setComment(event.target.value)} />
          </label>
          <div className="button-row">
            <button type="button" className="button" disabled={busy !== null} onClick={validate}>
              {busy === 'validate' ? 'Validating…' : 'Validate'}
            </button>
            <button type="button" className="button" disabled={busy !== null} onClick={simulate}>
              {busy === 'simulate' ? 'Simulating…' : 'Simulate last 7 days'}
            </button>
            <button type="button" className="button button-primary" disabled={busy !== null || source.trim() === ''} onClick={save}>
              {busy === 'save' ? 'Saving…' : 'Save as new version'}
            </button>
          </div>
          {simulation ? (
            <div className="panel">
              <h3>Simulation over the last 7 days</h3>
              <pre className="code-block">{toJson(simulation)}</pre>
            </div>
          ) : null}
        </div>
        <div className="panel">
          <h2>Versions</h2>
          <Resolved
            {...versions}
            isEmpty={(data) => data.versions.length === 0}
            empty={<Empty title="No policy yet">Write one in the editor and save it. Without a policy, governed tools are blocked.</Empty>}
          >
            {(data) => (
              <ol className="version-list">
                {data.versions.map((version, index) => {
                  const previous = data.versions[index + 1];
                  return (
                    <li key={version.version}>
                      <div>
                        <strong>v{version.version}</strong> {version.active ? <Badge value="active" /> : null}
                        <span className="muted small"> {formatTime(version.createdAt)}</span>
                        {version.comment ? <div className="small">{version.comment}</div> : null}
                      </div>
                      <div className="button-row">
                        <button type="button" className="button small" onClick={() => open(version.version)}>
                          Open
                        </button>
                        {previous ? (
                          <button type="button" className="button small" onClick={() => setDiffPair([previous.version, version.version])}>
                            Diff
                          </button>
                        ) : null}
                        {!version.active ? (
                          <button type="button" className="button small button-primary" disabled={busy !== null} onClick={() => activate(version.version)}>
                            Activate
                          </button>
                        ) : null}
                      </div>
                    </li>
                  );
                })}
              </ol>
            )}
          </Resolved>
          {diffPair ? (
            <>
              <h3>
                Diff v{diffPair[0]} → v{diffPair[1]}{' '}
                <button type="button" className="button small" onClick={() => setDiffPair(null)}>Close</button>
              </h3>
              <DiffView from={diffPair[0]} to={diffPair[1]} />
            </>
          ) : null}
        </div>
      </div>
    </section>
  );
}
