import vm from 'node:vm';
import { describe, expect, it } from 'vitest';

// Documentation test: the seed ran agent code in `vm.createContext()`. This proves that design is escapable in one
// line, which is why Tollgate runs guests in QuickJS compiled to WASM instead (see docs/sandbox.md).
describe('node:vm is not a security boundary', () => {
  it('lets guest code reach the host process through the constructor chain', () => {
    const context = vm.createContext({});
    const escaped = vm.runInContext("this.constructor.constructor('return process')()", context) as NodeJS.Process;
    expect(escaped).toBe(process);
  });

  it('lets guest code reach the host through any injected host object, even a frozen plain one', () => {
    const bridge = Object.freeze({ log: (message: string) => message });
    const context = vm.createContext({ thetazero: bridge });
    const escaped = vm.runInContext("thetazero.log.constructor('return process')()", context) as NodeJS.Process;
    expect(escaped.pid).toBe(process.pid);
  });
});
