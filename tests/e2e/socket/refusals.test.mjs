// Connections the hub refuses, and what the socket does then: without a token it never
// connects; a forged or expired token is closed by the server with 4401, which ends the socket
// for good (no reconnect).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, offeredProtocols, openSocket, waitForLog,
  socketLog, admin, claims
} from './setup.mjs'
import { armScenario, initOutcome } from '../harness.mjs'

const world = useWorld()

/** The statechange states of the log, in order. */
const states = (log) => log.filter((e) => e.type === 'statechange').map((e) => e.state)

test('not authenticated: no connection is attempted, the socket closes with 4401', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await armScenario(page, world.app, 'keycloak-wasm', { config: world.config })
  assert.deepEqual(await initOutcome(page), { ok: true, value: false })
  await openSocket(page, hubUrl(world))
  const close = await waitForLog(page, '(e) => e.type === "close"')
  assert.deepEqual([close.code, close.reason, close.readyState], [4401, 'not authenticated', 3])
  assert.deepEqual(states(await socketLog(page)), ['connecting', 'closed'])
  assert.equal(recorder.all().length, 0, 'no WebSocket was opened')
  await page.context().close()
})

/** Builds the token the socket sends from the real one. */
const FORGE = `({ strategy: 'message', minDelay: 50, maxDelay: 100, authMessage: (token) => {
  const [header, payload] = token.split('.')
  const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
  claims.realm_access = { roles: ['user', 'admin'] }
  const forged = btoa(JSON.stringify(claims)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '')
  return { type: 'auth', token: header + '.' + forged + '.' + token.split('.')[2] }
} })`

test('a forged token is closed with 4401 and the socket does not reconnect', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), {}, FORGE)
  const close = await waitForLog(page, '(e) => e.type === "close"')
  assert.equal(close.code, 4401)
  assert.match(close.reason, /^unauthorized: invalid signature/)
  assert.deepEqual(states(await socketLog(page)), ['connecting', 'open', 'closed'])
  // The server saw the forged token (the socket sent what the app built), and closed it.
  const [handshake, ...more] = recorder.all()
  assert.equal(more.length, 0, 'one connection only')
  const sent = JSON.parse(handshake.sent[0])
  assert.deepEqual(claims(sent.token).realm_access.roles, ['user', 'admin'])
  assert.deepEqual(await page.evaluate(() => [window.socket.readyState, window.socket.state]), [3, 'closed'])
  // The page's own plain WebSocket with a forged bearer subprotocol is refused the same way.
  const plain = await page.evaluate(({ url, token }) => new Promise((resolve) => {
    const [header, payload, signature] = token.split('.')
    const ws = new WebSocket(url, ['keycloak-events.v1', `bearer.${header}.${payload}.${signature.slice(0, -4)}AAAA`])
    ws.onclose = (e) => resolve([e.code, e.reason])
  }), { url: hubUrl(world), token: await page.evaluate(() => window.kc.token) })
  assert.equal(plain[0], 4401)
  assert.match(plain[1], /^unauthorized: (invalid signature|malformed token)/)
  assert.equal(recorder.all().length, 2)
  await page.context().close()
})

test('an expired token is closed with 4401 (token expired) and the socket does not reconnect', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  const expired = await page.evaluate(() => window.kc.token)
  // Age the server: by its clock the token expired long ago.
  await admin(world, 'PUT', '/admin/devserver/clock', { offsetSeconds: 3600 })
  try {
    await page.evaluate((token) => { window.expiredToken = token }, expired)
    await openSocket(page, hubUrl(world), { strategy: 'message' }, '({ authMessage: () => ({ type: "auth", token: window.expiredToken }) })')
    const close = await waitForLog(page, '(e) => e.type === "close"')
    assert.deepEqual([close.code, close.reason], [4401, 'unauthorized: token expired'])
    assert.deepEqual(states(await socketLog(page)), ['connecting', 'open', 'closed'])
  } finally {
    await admin(world, 'PUT', '/admin/devserver/clock', { offsetSeconds: 0 })
  }
  await page.context().close()
})

test('no token at all in the auth message: 4401, for good', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  await openSocket(page, hubUrl(world), { strategy: 'message', authMessage: '{"type":"auth"}' })
  const close = await waitForLog(page, '(e) => e.type === "close"')
  assert.equal(close.code, 4401)
  assert.equal(recorder.all().length, 1)
  assert.deepEqual(offeredProtocols(recorder.all()[0]), ['keycloak-events.v1'])
  await page.context().close()
})
