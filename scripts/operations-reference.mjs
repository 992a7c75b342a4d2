#!/usr/bin/env node
// Regenerates the reference tables of docs/operations.md (every environment variable from the server's
// CONFIG_VARIABLES, every CLI command and flag from the `tollgate` program) between the GENERATED markers.
// Run after adding a setting or a command: `npm run docs:reference` (builds first).
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../packages/server/dist/index.js';
import { buildProgram } from '../packages/cli/dist/index.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '../docs/operations.md');

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function envTable() {
  const rows = Object.values(CONFIG_VARIABLES).map((v) => {
    const def = v.defaultValue === undefined ? '—' : `\`${JSON.stringify(v.defaultValue)}\``;
    return `| \`${v.env}\` | ${def} | ${cell(v.description)} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

function commandLines(command, prefix) {
  const name = `${prefix} ${command.name()}${command.registeredArguments.map((a) => (a.required ? ` <${a.name()}>` : ` [${a.name()}]`)).join('')}`.trim();
  const lines = [];
  if (command.commands.length === 0 || command.options.length > 0) {
    lines.push(`- \`${name}\` — ${command.description()}`);
    for (const option of command.options) {
      const def = option.defaultValue === undefined ? '' : ` (default \`${option.defaultValue}\`)`;
      lines.push(`  - \`${option.flags}\`${option.mandatory ? ' (required)' : ''} — ${option.description}${def}`);
    }
  }
  for (const sub of command.commands) lines.push(...commandLines(sub, name));
  return lines;
}

function cliList() {
  const program = buildProgram();
  return program.commands.flatMap((command) => commandLines(command, 'tollgate')).join('\n');
}

function replaceBetween(text, marker, content) {
  const begin = `<!-- BEGIN GENERATED ${marker} -->`;
  const end = `<!-- END GENERATED ${marker} -->`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start < 0 || stop < 0) throw new Error(`markers for ${marker} missing in docs/operations.md`);
  return `${text.slice(0, start + begin.length)}\n${content}\n${text.slice(stop)}`;
}

let doc = await readFile(DOC, 'utf8');
doc = replaceBetween(doc, 'ENV', envTable());
doc = replaceBetween(doc, 'CLI', cliList());
await writeFile(DOC, doc);
console.log('docs/operations.md reference tables regenerated');
