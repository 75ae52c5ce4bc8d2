// Conformance of the HTTP management API against the npm durable-functions
// 3.x DurableClient, a client nobody on this project wrote. Run by the Go
// test TestNpmDurableClientConformance with SERVER_URL (the handler),
// TASK_HUB and, for the second pass, FAST_PATH=1 (rpcBaseUrl mode).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const df = require('durable-functions');
const { DurableClient } = require('durable-functions/lib/src/durableClient/DurableClient');
const { HttpRequest } = require('@azure/functions');

const server = process.env.SERVER_URL;
const hub = process.env.TASK_HUB;
const base = `${server}/runtime/webhooks/durabletask`;
const query = `taskHub=${hub}&connection=Storage`;
const inst = (suffix) => `${base}/instances/INSTANCEID${suffix}`;

const clientData = {
  taskHubName: hub,
  creationUrls: {
    createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]`,
    createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}`,
  },
  managementUrls: {
    id: 'INSTANCEID',
    statusQueryGetUri: inst(`?${query}`),
    sendEventPostUri: inst(`/raiseEvent/{eventName}?${query}`),
    terminatePostUri: inst(`/terminate?reason={text}&${query}`),
    rewindPostUri: inst(`/rewind?reason={text}&${query}`),
    purgeHistoryDeleteUri: inst(`?${query}`),
    restartPostUri: inst(`/restart?${query}`),
    suspendPostUri: inst(`/suspend?reason={text}&${query}`),
    resumePostUri: inst(`/resume?reason={text}&${query}`),
  },
  baseUrl: base,
  requiredQueryStringParameters: 'code=unused',
  ...(process.env.FAST_PATH ? { rpcBaseUrl: `${base}/` } : {}),
};
const client = new DurableClient(clientData);
const mode = process.env.FAST_PATH ? 'rpc' : 'legacy';
const Status = df.OrchestrationRuntimeStatus;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(id, predicate, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const st = await client.getStatus(id);
    if (predicate(st)) return st;
    if (Date.now() > end) throw new Error(`${id}: condition not met, last status ${st.runtimeStatus}`);
    await sleep(100);
  }
}
const request = () => new HttpRequest({ url: `${server}/api/orchestrators/x`, method: 'POST' });

test(`startNew, getStatus and waitForCompletion (${mode})`, async () => {
  const id = await client.startNew('HelloCities', { instanceId: `npm-hello-${mode}` });
  assert.equal(id, `npm-hello-${mode}`);
  const res = await client.waitForCompletionOrCreateCheckStatusResponse(request(), id,
    { timeoutInMilliseconds: 20000, retryIntervalInMilliseconds: 200 });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(await res.text()), ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  const st = await client.getStatus(id, { showHistory: true, showHistoryOutput: true, showInput: true });
  assert.equal(st.runtimeStatus, Status.Completed);
  assert.equal(st.name, 'HelloCities');
  assert.deepEqual(st.output, ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  assert.match(st.createdTime.toISOString(), /^\d{4}-\d\d-\d\dT/);
});

test(`startNew with input and a generated id (${mode})`, async () => {
  const id = await client.startNew('FanOutFanIn', { input: 10 });
  assert.match(id, /^[0-9a-f]{32}$/);
  const st = await until(id, (s) => s.runtimeStatus === Status.Completed);
  assert.equal(st.output, 385);
  assert.equal(st.input, 10);
});

test(`raiseEvent, suspend and resume (${mode})`, async () => {
  const id = await client.startNew('Approval', { instanceId: `npm-approval-${mode}`, input: { timeoutSeconds: 60 } });
  await until(id, (s) => s.runtimeStatus === Status.Running);
  await client.suspend(id, 'hold on');
  await until(id, (s) => s.runtimeStatus === Status.Suspended);
  await client.raiseEvent(id, 'Approval', true);
  await sleep(500);
  assert.equal((await client.getStatus(id)).runtimeStatus, Status.Suspended);
  await client.resume(id, 'go');
  const st = await until(id, (s) => s.runtimeStatus === Status.Completed);
  assert.equal(st.output, 'approved');
  await assert.rejects(client.raiseEvent('npm-nobody', 'Approval', true));
});

test(`terminate (${mode})`, async () => {
  const id = await client.startNew('Approval', { instanceId: `npm-terminate-${mode}`, input: { timeoutSeconds: 60 } });
  await until(id, (s) => s.runtimeStatus === Status.Running);
  await client.terminate(id, 'stop it');
  const st = await until(id, (s) => s.runtimeStatus === Status.Terminated);
  assert.equal(st.output, 'stop it');
  const res = await client.waitForCompletionOrCreateCheckStatusResponse(request(), id, { timeoutInMilliseconds: 2000 });
  assert.equal(res.status, 200);
});

test(`rewind a failed instance (${mode})`, async () => {
  const id = await client.startNew('CallFlaky', { instanceId: `npm-rewind-${mode}`, input: { failTimes: 1 } });
  await until(id, (s) => s.runtimeStatus === Status.Failed);
  const res = await client.waitForCompletionOrCreateCheckStatusResponse(request(), id, { timeoutInMilliseconds: 2000 });
  assert.equal(res.status, 500);
  await client.rewind(id, 'try again');
  const st = await until(id, (s) => s.runtimeStatus === Status.Completed);
  assert.equal(st.output, 2);
  await assert.rejects(client.rewind(id, 'not failed'));
});

test(`getStatusBy and getStatusAll (${mode})`, async () => {
  const from = new Date(Date.now() - 10 * 60 * 1000);
  const done = await client.getStatusBy({ createdTimeFrom: from, runtimeStatus: [Status.Completed] });
  const ids = done.map((s) => s.instanceId);
  assert.ok(ids.includes(`npm-hello-${mode}`), `getStatusBy lacks npm-hello-${mode}: ${ids}`);
  assert.ok(done.every((s) => s.runtimeStatus === Status.Completed));
  const all = await client.getStatusAll();
  assert.ok(all.length >= done.length);
  assert.ok(all.some((s) => s.instanceId === `npm-terminate-${mode}`));
});

test(`purgeInstanceHistory and purgeInstanceHistoryBy (${mode})`, async () => {
  const id = await client.startNew('HelloCities', { instanceId: `npm-purge-${mode}` });
  await until(id, (s) => s.runtimeStatus === Status.Completed);
  const one = await client.purgeInstanceHistory(id);
  assert.equal(one.instancesDeleted, 1);
  assert.equal((await client.purgeInstanceHistory(id)).instancesDeleted, 0);
  await assert.rejects(client.getStatus(id));
  const many = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(Date.now() - 10 * 60 * 1000), runtimeStatus: [Status.Terminated],
  });
  assert.equal(many.instancesDeleted, 1);
});

test(`createCheckStatusResponse matches the server's URLs (${mode})`, async () => {
  const res = client.createCheckStatusResponse(request(), 'abc');
  assert.equal(res.status, 202);
  const body = JSON.parse(await res.text());
  assert.equal(body.id, 'abc');
  assert.match(body.statusQueryGetUri, /\/runtime\/webhooks\/durabletask\/instances\/abc\?taskHub=/);
});

test(`signalEntity and readEntityState (${mode})`, async () => {
  const id = new df.EntityId('Counter', `npm-${mode}`);
  const before = await client.readEntityState(id);
  assert.equal(before.entityExists, false);
  for (let i = 0; i < 5; i++) await client.signalEntity(id, 'add', 2);
  const end = Date.now() + 20000;
  let st;
  for (;;) {
    st = await client.readEntityState(id);
    if (st.entityExists && st.entityState === 10) break;
    if (Date.now() > end) throw new Error(`entity state ${JSON.stringify(st)}`);
    await sleep(100);
  }
  assert.equal(st.entityState, 10);
});
