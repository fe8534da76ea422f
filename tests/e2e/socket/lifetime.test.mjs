// A socket outlives its tokens: it re-authenticates in-band through the adapter's refresh and
// stays on one connection; without re-authentication the hub closes it (4440) and it comes back
// with a fresh token; and it never connects with an expired token. Time passes on devserver's
// clock and the page's (installed before the page loads), not on the wall clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, offeredProtocols, openSocket, waitForLog,
  socketLog, messages, hubConnections, addFault, clearFaults, claims, passTime
} from './setup.mjs'

// Tokens of 40 s: the socket re-authenticates 20 s before expiry (half the lifetime, as the
// default minValidity of 30 s is longer), and a jump of less than 60 s (twice the default
// heartbeat) never makes the page's heartbeat take the connection for dead.
const LIFESPAN = 40
const REAUTH_AFTER = LIFESPAN / 2 + 1
const world = useWorld({ realm: (realm) => { realm.accessTokenLifespan = LIFESPAN } })

const states = (log) => log.filter((e) => e.type === 'statechange').map((e) => e.state)
const refreshes = (page) => page.evaluate(() => window.events.filter((e) => e.name === 'onAuthRefreshSuccess').length)

for (const strategy of ['subprotocol', 'message']) {
  test(`${strategy}: one connection lasts through several token refreshes`, async () => {
    const page = await newPage(world)
    await page.clock.install()
    const recorder = await recordWebSockets(page)
    await signedIn(world, page)
    await openSocket(page, hubUrl(world), { strategy })
    const welcome = JSON.parse((await waitForLog(page, '(e, m) => m?.type === "welcome"')).data)
    assert.ok(welcome.ttl <= LIFESPAN)
    // Three re-authentications, each answered by the hub, each with the token still valid there.
    for (let n = 1; n <= 3; n++) {
      await passTime(world, page, REAUTH_AFTER)
      await waitForLog(page, `(e, m) => m?.type === "reauthenticated" && window.socketLog.filter((x) => x.data?.includes('"reauthenticated"')).length >= ${n}`)
    }
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
  await page.clock.install()
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), { reauthenticate: false, minDelay: 100, maxDelay: 500 })
  await waitForLog(page, '(e) => e.type === "statechange" && e.state === "open"')
  await passTime(world, page, LIFESPAN + 1)
  const reconnecting = await waitForLog(page, '(e) => e.type === "statechange" && e.state === "reconnecting"')
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
  await page.clock.install()
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await addFault(world, { target: 'token', grantType: 'refresh_token', status: 503, forever: true })
  try {
    // The access token expires (the adapter's own expiry callback tells).
    await page.evaluate(() => { window.kc.onTokenExpired = () => { window.tokenExpired = true } })
    await passTime(world, page, LIFESPAN + 1)
    await page.waitForFunction(() => window.tokenExpired === true && window.kc.isTokenExpired(0), null, { timeout: 5000 })
      .catch(() => { throw new Error('the access token did not expire on the page') })
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
