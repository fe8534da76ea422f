// A socket outlives its tokens: with access tokens of 4 s, it re-authenticates in-band through
// the adapter's refresh and stays on one connection; without re-authentication the hub closes it
// (4440) and it comes back with a fresh token; and it never connects with an expired token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, offeredProtocols, openSocket, waitForLog,
  socketLog, messages, hubConnections, addFault, clearFaults, claims
} from './setup.mjs'

const LIFESPAN = 4
const world = useWorld({ realm: (realm) => { realm.accessTokenLifespan = LIFESPAN } })

const states = (log) => log.filter((e) => e.type === 'statechange').map((e) => e.state)
const refreshes = (page) => page.evaluate(() => window.events.filter((e) => e.name === 'onAuthRefreshSuccess').length)

for (const strategy of ['subprotocol', 'message']) {
  test(`${strategy}: one connection lasts through several token refreshes`, async () => {
    const page = await newPage(world)
    const recorder = await recordWebSockets(page)
    await signedIn(world, page)
    await openSocket(page, hubUrl(world), { strategy })
    const welcome = JSON.parse((await waitForLog(page, '(e, m) => m?.type === "welcome"')).data)
    assert.ok(welcome.ttl <= LIFESPAN)
    // Three re-authentications, each answered by the hub.
    await waitForLog(page, `(e, m) => m?.type === "reauthenticated" && window.socketLog.filter((x) => x.data?.includes('"reauthenticated"')).length >= 3`, { timeout: 30000 })
    const log = await socketLog(page)
    assert.deepEqual(states(log), ['connecting', 'open'], 'never dropped')
    assert.ok(!log.some((e) => e.type === 'close' || e.type === 'error'))
    assert.ok(await refreshes(page) >= 3, 'the tokens came from the adapter\'s refreshes')
    // One connection, re-authenticated in-band with successive tokens of the same user.
    const [connection, ...others] = recorder.all()
    assert.equal(others.length, 0)
    const auths = connection.sent.map((frame) => JSON.parse(frame)).filter((m) => m.type === 'auth')
    const first = strategy === 'message' ? 1 : 0
    assert.ok(auths.length >= 3 + first)
    const tokens = auths.map((m) => m.token)
    assert.equal(new Set(tokens).size, tokens.length, 'each re-authentication carries a new token')
    assert.ok(tokens.every((t) => claims(t).sub === welcome.sub))
    for (let i = 1; i < tokens.length; i++) assert.ok(claims(tokens[i]).exp > claims(tokens[i - 1]).exp)
    const hub = (await hubConnections(world)).filter((c) => c.sub === welcome.sub)
    assert.equal(hub.length, 1)
    assert.ok(hub[0].reauthentications >= 3)
    await page.evaluate(() => window.socket.close())
    await page.context().close()
  })
}

test('without re-authentication the hub closes with 4440 and the socket reconnects with a fresh token', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), { reauthenticate: false, minDelay: 100, maxDelay: 500 })
  await waitForLog(page, '(e) => e.type === "statechange" && e.state === "open"')
  const reconnecting = await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"', { timeout: 30000 })
  assert.deepEqual([reconnecting.code, reconnecting.reason], [4440, 'token expired'])
  assert.ok(reconnecting.delay >= 100 && reconnecting.delay <= 500)
  await waitForLog(page, '(e) => e.type === "statechange" && e.state === "open" && window.socketLog.filter((x) => x.state === "open").length === 2')
  const [first, second] = recorder.all()
  const token = (recorded) => offeredProtocols(recorded).find((p) => p.startsWith('bearer.')).slice(7)
  assert.notEqual(token(first), token(second))
  assert.ok(claims(token(second)).exp > claims(token(first)).exp)
  assert.ok(!(await messages(page)).some((m) => m.type === 'reauthenticated'))
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('an expired token that cannot be refreshed is never used: the socket waits and retries', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await addFault(world, { target: 'token', grantType: 'refresh_token', status: 503, forever: true })
  try {
    // Wait for the access token to expire (the adapter's own expiry callback).
    await page.evaluate(() => new Promise((resolve) => {
      if (window.kc.isTokenExpired(0)) return resolve()
      window.kc.onTokenExpired = resolve
    }))
    await openSocket(page, hubUrl(world), { minDelay: 200, maxDelay: 400 })
    const waiting = await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"')
    assert.deepEqual([waiting.code, waiting.reason], [undefined, 'token refresh failed'])
    assert.equal(recorder.all().length, 0, 'no connection with the expired token')
  } finally {
    await clearFaults(world)
  }
  await waitForLog(page, '(e, m) => m?.type === "welcome"')
  const [connection] = recorder.all()
  const token = offeredProtocols(connection).find((p) => p.startsWith('bearer.')).slice(7)
  assert.equal(token, await page.evaluate(() => window.kc.token))
  assert.ok(claims(token).exp * 1000 > Date.now() - 1000)
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})
