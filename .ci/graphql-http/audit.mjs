// Runs graphql-http's server audit against URL (argv[2]) with an Authorization header
// (argv[3], optional) and prints every result; exits 1 on any failure or warning.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const authorization = process.argv[3];
const fetchWithAuth = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  if (authorization) headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn: fetchWithAuth });
let bad = 0;
for (const result of results) {
  const mark = result.status === 'ok' ? 'ok  ' : result.status === 'warn' ? 'WARN' : 'FAIL';
  if (result.status !== 'ok') bad += 1;
  console.log(`${mark} ${result.id} ${result.name}`);
  if (result.status !== 'ok') console.log(`     ${result.reason}`);
}
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) counts[result.status] += 1;
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.warn} warnings, ${counts.error} errors`);
process.exit(bad ? 1 : 0);
