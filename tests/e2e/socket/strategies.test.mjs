// The three ways the token reaches the hub, and where it must never show up: the URL (unless
// the query strategy was chosen), the socket's events, error messages and log lines.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, offeredProtocols, openSocket, waitForLog,
  socketLog, hubConnections, recordConsole
} from './setup.mjs'

const world = useWorld()

/** Signs in as alice with logging on, opens a socket, and waits for the hub's welcome. */
async function connect (options = {}, optionsSource) {
  const page = await newPage(world)
  const consoleLines = recordConsole(page)
  const recorder = await recordWebSockets(page)
  assert.deepEqual(await signedIn(world, page, { initOptions: { enableLogging: true } }), { ok: true, value: true })
  await openSocket(page, hubUrl(world), options, optionsSource)
  const welcome = JSON.parse((await waitForLog(page, '(e, m) => m?.type === "welcome"')).data)
  const kc = await page.evaluate(() => ({ token: window.kc.token, subject: window.kc.subject, protocol: window.socket.protocol, readyState: window.socket.readyState, state: window.socket.state }))
  return { page, recorder, welcome, kc, consoleLines }
}

/** Nothing the page saw or logged holds the token. */
async function assertNoTokenLeaks (page, token, consoleLines) {
  const log = JSON.stringify(await socketLog(page))
  assert.ok(!log.includes(token), 'the socket events do not carry the token')
  assert.ok(!consoleLines.some((line) => line.includes(token)), 'no console line carries the token')
  assert.deepEqual(page.errors ?? [], [])
}

test('subprotocol (default): the token travels as bearer.<jwt> beside keycloak-events.v1, not in the URL', async () => {
  const { page, recorder, welcome, kc, consoleLines } = await connect()
  assert.equal(welcome.sub, kc.subject)
  assert.equal(welcome.realm, 'demo')
  assert.equal(welcome.admin, false)
  assert.equal(kc.protocol, 'keycloak-events.v1', 'the server echoed the application subprotocol')
  assert.deepEqual([kc.readyState, kc.state], [1, 'open'])
  const [handshake] = recorder.all()
  assert.equal(handshake.url, hubUrl(world))
  assert.deepEqual(offeredProtocols(handshake), ['keycloak-events.v1', `bearer.${kc.token}`])
  assert.equal(handshake.sent.length, 0, 'no auth message is needed')
  assert.deepEqual((await hubConnections(world)).map((c) => [c.sub, c.strategy]), [[kc.subject, 'subprotocol']])
  assert.ok(consoleLines.includes('[KEYCLOAK] Socket open'))
  await assertNoTokenLeaks(page, kc.token, consoleLines)
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('first message: {"type":"auth","token"} is sent first; the URL and subprotocols carry no token', async () => {
  const { page, recorder, welcome, kc, consoleLines } = await connect({ strategy: 'message' })
  assert.equal(welcome.sub, kc.subject)
  const [handshake] = recorder.all()
  assert.equal(handshake.url, hubUrl(world))
  assert.deepEqual(offeredProtocols(handshake), ['keycloak-events.v1'])
  assert.deepEqual(JSON.parse(handshake.sent[0]), { type: 'auth', token: kc.token })
  assert.ok((await hubConnections(world)).some((c) => c.sub === kc.subject && c.strategy === 'first-message'))
  await assertNoTokenLeaks(page, kc.token, consoleLines)
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('first message with a custom shape: a function of the token, or a {token} template', async () => {
  // A Centrifugo-style command built by a function (the hub reads type and token, and ignores the rest).
  const built = await connect({ strategy: 'message' }, '({ authMessage: (token) => ({ type: "auth", token, connect: { token }, id: 1 }) })')
  assert.deepEqual(JSON.parse(built.recorder.all()[0].sent[0]), { type: 'auth', token: built.kc.token, connect: { token: built.kc.token }, id: 1 })
  await built.page.context().close()

  const templated = await connect({ strategy: 'message', authMessage: '{"type":"auth","token":"{token}","id":7}' })
  assert.deepEqual(JSON.parse(templated.recorder.all()[0].sent[0]), { type: 'auth', token: templated.kc.token, id: 7 })
  await templated.page.context().close()
})

test('query (opt-in): the token is the access_token parameter, and only there', async () => {
  const { page, recorder, welcome, kc, consoleLines } = await connect({ strategy: 'query' })
  assert.equal(welcome.sub, kc.subject)
  const [handshake] = recorder.all()
  assert.equal(handshake.url, `${hubUrl(world)}?access_token=${kc.token}`)
  assert.deepEqual(offeredProtocols(handshake), ['keycloak-events.v1'])
  assert.equal(handshake.sent.length, 0)
  assert.ok((await hubConnections(world)).some((c) => c.sub === kc.subject && c.strategy === 'query'))
  await assertNoTokenLeaks(page, kc.token, consoleLines)
  await page.context().close()
})

test('the application subprotocols and the query parameter are configurable', async () => {
  const page = await newPage(world)
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  // The hub echoes only keycloak-events.v1, so offering just another one still connects (by query).
  await openSocket(page, `${hubUrl(world)}?x=1`, { strategy: 'query', queryParameter: 'access_token', protocols: ['keycloak-events.v1', 'other.v2'] })
  await waitForLog(page, '(e, m) => m?.type === "welcome"')
  const token = await page.evaluate(() => window.kc.token)
  const [handshake] = recorder.all()
  assert.equal(handshake.url, `${hubUrl(world)}?x=1&access_token=${token}`)
  assert.deepEqual(offeredProtocols(handshake), ['keycloak-events.v1', 'other.v2'])
  await page.context().close()
})

test('the socket behaves like a WebSocket: on* handlers, listeners, send and readyState', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  const seen = await page.evaluate((url) => new Promise((resolve) => {
    const socket = window.kc.socket(url)
    const seen = { states: [socket.readyState], handlers: [], listeners: [] }
    let pongs = 0
    socket.onopen = (e) => {
      seen.handlers.push(e.type)
      seen.states.push(socket.readyState)
      // Sending while connecting throws, as on a WebSocket; once open it goes out.
      socket.send(JSON.stringify({ type: 'ping' }))
    }
    socket.addEventListener('message', (e) => {
      const message = JSON.parse(e.data)
      seen.listeners.push(message.type)
      if (message.type === 'pong' && ++pongs === 1) socket.close(4000 + 321, 'done')
    })
    socket.onclose = (e) => {
      seen.handlers.push(e.type)
      seen.close = { code: e.code, reason: e.reason, wasClean: e.wasClean, isCloseEvent: e instanceof CloseEvent }
      seen.states.push(socket.readyState)
      // After the final close nothing is sent, and nothing throws.
      socket.send('ignored')
      resolve(seen)
    }
    try { socket.send('too early') } catch (error) { seen.early = { code: error.code, message: error.message } }
    seen.constants = [socket.CONNECTING, socket.OPEN, socket.CLOSING, socket.CLOSED, window.kc.socket === undefined]
  }), hubUrl(world))
  assert.deepEqual(seen.early, { code: 'invalid_state', message: 'The socket is not open.' })
  assert.deepEqual(seen.states, [0, 1, 3])
  assert.deepEqual(seen.handlers, ['open', 'close'])
  assert.deepEqual(seen.listeners, ['welcome', 'pong'])
  assert.deepEqual(seen.close, { code: 4321, reason: 'done', wasClean: true, isCloseEvent: true })
  assert.deepEqual(seen.constants, [0, 1, 2, 3, false])
  await page.context().close()
})

test('options are checked', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  const errors = await page.evaluate((url) => {
    const attempt = (options) => { try { window.kc.socket(url, options); return null } catch (e) { return [e.code, e.message] } }
    return [attempt({ strategy: 'header' }), attempt({ maxDelay: -1 }), attempt({ authMessage: 5 }), attempt({ protocols: [1] })]
  }, hubUrl(world))
  assert.deepEqual(errors, [
    ['invalid_option', 'Invalid value for strategy'],
    ['invalid_option', 'Invalid value for maxDelay'],
    ['invalid_option', 'Invalid value for authMessage'],
    ['invalid_option', 'Invalid value for protocols']
  ])
  await page.context().close()
})
