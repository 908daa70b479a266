import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ferry } from './cli.js';

describe('ferry schema', () => {
  it('prints a JSON Schema that accepts the embedded default config and refuses an unknown option', async () => {
    const schema = JSON.parse((await ferry(['schema'])).stdout);
    const config = JSON.parse((await ferry(['run', '--print-default-config'])).stdout);
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect(validate(config), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const bad = structuredClone(config);
    bad.apps.http.servers.demo.routes[0].handle[0].bogus = true;
    expect(validate(bad)).toBe(false);
  });

  it('describes every handler of the distribution by its name', async () => {
    const schema = JSON.parse((await ferry(['schema'])).stdout);
    const names = (schema.$defs.handler.oneOf as { properties: { handler: { const: string } } }[]).map((h) => h.properties.handler.const);
    const ids = (await ferry(['list-modules'])).stdout
      .trim()
      .split('\n')
      .filter((id) => id.startsWith('http.handlers.'));
    expect(names.sort()).toEqual(ids.map((id) => id.slice('http.handlers.'.length)).sort());
  });
});

describe('ferry reference', () => {
  it('matches docs/reference.md, which is generated from it (regenerate with `node apps/ferry/dist/cli.js reference > docs/reference.md`)', async () => {
    const generated = (await ferry(['reference'])).stdout;
    const committed = readFileSync(new URL('../../../docs/reference.md', import.meta.url), 'utf8');
    expect(committed).toBe(generated);
  });
});
