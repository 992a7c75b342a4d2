#!/usr/bin/env node
// First: V8 settings must be in place before any other module runs.
import './v8-flags.js';
import { runCli } from './index.js';

await runCli(process.argv);
