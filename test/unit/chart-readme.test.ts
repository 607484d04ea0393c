// The chart's README lists every value with its default and meaning, generated from values.yaml (npm run docs:chart).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { BEGIN, chartValuesTable, END } from '../../scripts/chart-readme.js';

const chart = new URL('../../deploy/helm/dockercoins/', import.meta.url);

describe('chart README', () => {
  it('holds the values table generated from values.yaml', () => {
    const readme = readFileSync(new URL('README.md', chart), 'utf8');
    const table = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim();
    assert.equal(table, chartValuesTable(), 'run `npm run docs:chart`');
  });

  it('names every top-level value, and the schema knows each of them (unknown keys are refused at install)', () => {
    const values = parse(readFileSync(new URL('values.yaml', chart), 'utf8')) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(new URL('values.schema.json', chart), 'utf8')) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    const table = chartValuesTable();
    for (const key of Object.keys(values)) {
      assert.ok(table.includes(`| \`${key}`), `README: ${key}`);
      assert.ok(schema.properties[key], `values.schema.json: ${key}`);
    }
    assert.equal(schema.additionalProperties, false);
  });
});
