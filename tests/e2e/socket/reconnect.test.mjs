// Reconnecting: the hub restarts (1012) and refuses connections for a while; the socket backs
// off within its bounds and comes back with a fresh token. The `online` event ends a wait at
// once. The heartbeat ends a silent connection and keeps a quiet one alive with pings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, offeredProtocols, openSocket, waitForLog,
  socketLog, messages, restartHub, startHub, claims, passTime
} from './setup.mjs'

// Tokens of 40 s; the first test lets them pass while the hub is down, on devserver's clock and
// the page's, so the token from before the restart has expired when it is back.
const LIFESPAN = 40
const world = useWorld({ realm: (realm) => { realm.accessTokenLifespan = LIFESPAN } })

const bearer = (recorded) => offeredProtocols(recorded).find((p) => p.startsWith('bearer.'))?.slice(7)
const opened = (count) => `(e) => e.type === "open" && window.socketLog.filter((x) => x.type === "open").length === ${count}`

test('the hub restarts: the socket reconnects with backoff, within its bounds, with a fresh token', async () => {
  const page = await newPage(world)
  await page.clock.install()
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  const MIN = 200
  const MAX = 1600
  await openSocket(page, hubUrl(world), { minDelay: MIN, maxDelay: MAX })
  await waitForLog(page, '(e, m) => m?.type === "welcome"')
  const before = bearer(recorder.all()[0])
  // Down until started again; each backoff wait is run through on the page's clock.
  await restartHub(world, { forever: true })
  const waited = (count) => `(e) => e.type === "statechange" && e.state === "reconnecting" && window.socketLog.filter((x) => x.state === "reconnecting").length >= ${count}`
  for (const count of [1, 2]) {
    await waitForLog(page, waited(count))
    await page.clock.runFor(MAX)
  }
  // Longer than the old token lives; once an attempt made since has been refused (no attempt
  // with the old token is under way then), the hub is back.
  await passTime(world, page, LIFESPAN + 1)
  const refused = (await socketLog(page)).filter((e) => e.state === 'reconnecting').length
  await page.clock.runFor(MAX)
  await waitForLog(page, waited(refused + 1))
  await startHub(world)
  await page.clock.runFor(MAX)
  await waitForLog(page, opened(2))
  const log = await socketLog(page)
  const waits = log.filter((e) => e.type === 'statechange' && e.state === 'reconnecting')
  assert.deepEqual([waits[0].code, waits[0].reason], [1012, 'service restart'])
  assert.ok(waits.length >= 2, 'the refused attempts backed off again')
  for (const [i, wait] of waits.entries()) {
    // Full jitter over an exponential ceiling: min + random × min(max, min × 2^n), capped at max.
    assert.equal(wait.attempt, i + 1)
    assert.ok(wait.delay >= MIN && wait.delay <= Math.min(MAX, MIN + Math.min(MAX, MIN * 2 ** i)), `wait ${i}: ${wait.delay}`)
  }
  // No close or open event for the transient drops, only statechanges; error events for refusals.
  assert.ok(!log.some((e) => e.type === 'close'))
  const connections = recorder.all()
  const last = connections.at(-1)
  assert.ok(connections.slice(1, -1).every((c) => c.status === undefined || c.status === 503), 'the attempts in between were refused')
  assert.equal(last.status, 101)
  const after = bearer(last)
  assert.notEqual(after, before)
  assert.equal(after, await page.evaluate(() => window.kc.token))
  assert.ok(claims(after).exp > claims(before).exp)
  const welcomes = (await messages(page)).filter((m) => m.type === 'welcome')
  assert.equal(welcomes.length, 2)
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('online: a socket waiting to reconnect tries at once', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  // A minimum wait of a minute: only the online event can bring the socket back within the test.
  await openSocket(page, hubUrl(world), { minDelay: 60000, maxDelay: 120000 })
  await waitForLog(page, '(e) => e.type === "open"')
  await restartHub(world, { forever: true })
  const waiting = await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"')
  assert.ok(waiting.delay >= 60000)
  await startHub(world)
  await page.context().setOffline(true)
  await page.context().setOffline(false)
  await waitForLog(page, opened(2), { timeout: 15000 })
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('visibilitychange: a socket waiting to reconnect tries at once when the page is visible', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), { minDelay: 60000, maxDelay: 120000 })
  await waitForLog(page, '(e) => e.type === "open"')
  await restartHub(world, { forever: true })
  await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"')
  await startHub(world)
  // The page is visible (headless); the event is what a tab coming back to the front fires.
  assert.equal(await page.evaluate(() => document.hidden), false)
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange', { bubbles: true })))
  await waitForLog(page, opened(2), { timeout: 15000 })
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('heartbeat: a connection silent for two intervals is dropped and replaced', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  // No pings: after the welcome the hub is silent for 25 s, far beyond 2 × 300 ms.
  await openSocket(page, hubUrl(world), { heartbeat: 300, ping: null, minDelay: 50, maxDelay: 100 })
  const dropped = await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"')
  assert.deepEqual([dropped.code, dropped.reason], [4000, 'heartbeat timeout'])
  await waitForLog(page, opened(2))
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('heartbeat: pings keep a quiet connection alive', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), { heartbeat: 300 })
  await waitForLog(page, '(e, m) => m?.type === "pong" && window.socketLog.filter((x) => x.data === \'{"type":"pong"}\').length >= 4')
  const log = await socketLog(page)
  assert.deepEqual(log.filter((e) => e.type === 'statechange').map((e) => e.state), ['connecting', 'open'])
  assert.ok(recorder.all()[0].sent.filter((f) => f === '{"type":"ping"}').length >= 4)
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})
