import { useEffect, useRef, useState } from 'react';
import { useResource } from '../api/hooks.js';
import { policiesApi, type LintResult, type PolicySummary, type PolicyVersion, type SimulationResult } from '../api/policies.js';
import { Badge } from '../components/badge.js';
import { CodeEditor, focusLine } from '../components/code-editor.js';
import { Empty, Resolved } from '../components/states.js';
import { setQuery } from '../router.js';
import type { PageProps } from '../app.js';
import { DiffView, LintPanel, SimulationReport, VersionList } from './policy-panels.js';

const STARTER_POLICY = `name: main
# Deny by default: each agent may only call the tools in its approvedScope.
agents:
  "*":
    approvedScope: [web_search, read_file, send_email]
rules:
  - id: external-email-needs-approval
    match: { tools: [send_email] }
    when: "!args.to.endsWith('@example.com')"
    effect: STEP_UP
    reason: email to outside addresses needs a human
`;

type Message = { tone: 'ok' | 'bad'; text: string } | undefined;

function usePolicyActions() {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>();
  const run = async (label: string, action: () => Promise<string | void>) => {
    setBusy(label);
    setMessage(undefined);
    try {
      const text = await action();
      if (text) setMessage({ tone: 'ok', text });
    } catch (error) {
      setMessage({ tone: 'bad', text: (error as Error).message });
    } finally {
      setBusy(null);
    }
  };
  return { busy, message, run };
}

function PolicyWorkspace({ policy, onChanged }: { policy: PolicySummary | null; onChanged: (policyId?: string) => void }) {
  const detail = useResource<{ versions: PolicyVersion[] }>(
    (signal) => (policy ? policiesApi.get(policy.id, signal) : Promise.resolve({ versions: [] })),
    [policy?.id, policy?.latestVersion, policy?.activeVersion],
  );
  const [source, setSource] = useState(policy ? '' : STARTER_POLICY);
  const [openedVersion, setOpenedVersion] = useState<number | null>(null);
  const [name, setName] = useState('main');
  const [comment, setComment] = useState('');
  const [lint, setLint] = useState<LintResult | undefined>();
  const [simulation, setSimulation] = useState<SimulationResult | undefined>();
  const [diffPair, setDiffPair] = useState<[number, number] | null>(null);
  const editorRef = useRef<HTMLTextAreaElement>(null);
  const { busy, message, run } = usePolicyActions();
  const versions = detail.data?.versions ?? [];

  useEffect(() => {
    if (openedVersion !== null || versions.length === 0) return;
    const preferred = versions.find((version) => version.version === (policy?.activeVersion ?? policy?.latestVersion)) ?? versions[versions.length - 1];
    if (preferred) {
      setSource(preferred.source);
      setOpenedVersion(preferred.version);
    }
  }, [versions, openedVersion, policy]);

  const validate = () => run('validate', async () => void setLint(await policiesApi.lint(source)));
  const save = () =>
    run('save', async () => {
      const result = await policiesApi.lint(source);
      setLint(result);
      if (!result.ok) return 'Not saved: fix the errors first.';
      if (!policy) {
        const created = await policiesApi.create(name, source, comment);
        onChanged(created.id);
        return `Policy “${created.name}” created as version 1 (not active yet).`;
      }
      const saved = await policiesApi.addVersion(policy.id, source, comment);
      setOpenedVersion(saved.version);
      onChanged(policy.id);
      return `Saved as version ${saved.version} (not active yet).`;
    });
  const simulate = () =>
    run('simulate', async () => {
      if (!policy) return;
      setSimulation(await policiesApi.simulate(policy.id, source, Date.now()));
    });
  const activate = (version: number) =>
    run(`activate-${version}`, async () => {
      if (!policy) return;
      await policiesApi.activate(policy.id, version);
      onChanged(policy.id);
      return `Version ${version} of “${policy.name}” is now active.`;
    });
  const open = (version: PolicyVersion) => {
    setSource(version.source);
    setOpenedVersion(version.version);
    setLint(undefined);
  };

  const errorLines = new Set((lint?.diagnostics ?? []).filter((item) => item.severity === 'error').map((item) => item.line));
  return (
    <div className="split split-wide-left">
      <div className="panel">
        <h2>
          {policy ? <>Editing “{policy.name}”</> : 'New policy'}
          {openedVersion !== null ? <span className="muted small"> (from version {openedVersion})</span> : null}
        </h2>
        {!policy ? (
          <label className="field">
            <span>Policy name</span>
            <input value={name} required onChange={(event) => setName(event.target.value)} />
          </label>
        ) : null}
        <CodeEditor
          id="policy-source"
          label="Policy source (YAML)"
          value={source}
          onChange={(value) => {
            setSource(value);
            setLint(undefined);
          }}
          errorLines={errorLines}
          describedBy={lint && !lint.ok ? 'policy-errors' : undefined}
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
          {policy ? (
            <button type="button" className="button" disabled={busy !== null} onClick={simulate}>
              {busy === 'simulate' ? 'Simulating…' : 'Simulate last 7 days'}
            </button>
          ) : null}
          <button type="button" className="button button-primary" disabled={busy !== null || source.trim() === ''} onClick={save}>
            {busy === 'save' ? 'Saving…' : policy ? 'Save as new version' : 'Create policy'}
          </button>
        </div>
        {simulation ? <SimulationReport result={simulation} /> : null}
      </div>
      <div className="panel">
        <h2>Versions</h2>
        {policy ? (
          <Resolved {...detail} isEmpty={(data) => data.versions.length === 0} empty={<Empty title="No versions" />}>
            {(data) => (
              <VersionList
                versions={data.versions}
                activeVersion={policy.activeVersion}
                busy={busy !== null}
                onOpen={open}
                onDiff={(from, to) => setDiffPair([from, to])}
                onActivate={activate}
              />
            )}
          </Resolved>
        ) : (
          <Empty title="No policy yet">Without an active policy only declared scopes decide, and undeclared tools are blocked.</Empty>
        )}
        {diffPair && policy ? (
          <>
            <h3>
              Diff v{diffPair[0]} → v{diffPair[1]}{' '}
              <button type="button" className="button small" onClick={() => setDiffPair(null)}>Close</button>
            </h3>
            <DiffView policyId={policy.id} from={diffPair[0]} to={diffPair[1]} />
          </>
        ) : null}
      </div>
    </div>
  );
}

export function PoliciesPage({ params }: PageProps) {
  const policies = useResource((signal) => policiesApi.list(signal), []);
  const requested = params.get('policy');
  const list = policies.data?.policies ?? [];
  const selected = list.find((policy) => policy.id === requested) ?? list.find((policy) => policy.active) ?? list[0] ?? null;
  const creating = requested === 'new';
  return (
    <section aria-labelledby="policies-title">
      <div className="page-header">
        <h1 id="policies-title">Policies</h1>
        {list.length > 0 ? (
          <label className="inline-field">
            <span>Policy</span>
            <select value={creating ? 'new' : selected?.id ?? ''} onChange={(event) => setQuery({ policy: event.target.value })}>
              {list.map((policy) => (
                <option key={policy.id} value={policy.id}>
                  {policy.name} (v{policy.latestVersion}{policy.active ? `, active v${policy.activeVersion}` : ''})
                </option>
              ))}
              <option value="new">+ New policy</option>
            </select>
          </label>
        ) : null}
        {selected?.active && !creating ? <Badge value="active" /> : null}
      </div>
      <Resolved {...policies}>
        {() => (
          <PolicyWorkspace
            key={creating ? 'new' : selected?.id ?? 'none'}
            policy={creating ? null : selected}
            onChanged={(policyId) => {
              if (policyId) setQuery({ policy: policyId });
              policies.reload();
            }}
          />
        )}
      </Resolved>
    </section>
  );
}
