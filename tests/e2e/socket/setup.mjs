// Shared pieces of the socket scenarios: keycloak-wasm's `keycloak.socket()` in the app page,
// talking to devserver's live-event hub (`/events`), observed from three sides: the events the
// socket fires, the handshakes and frames Chromium records (DevTools protocol), and the hub's own
// status knob.
import { admin } from '../adapter/setup.mjs'
export { useWorld, newPage, signedIn, submitLogin, admin, addFault, clearFaults } from '../adapter/setup.mjs'

/** The hub's WebSocket URL on the world's devserver. */
export const hubUrl = (world) => `${world.server.url.replace(/^http/, 'ws')}/events`

/**
 * Records the page's WebSocket traffic as Chromium sees it: every connection's URL, its
 * handshake request headers and response status, the frames sent and received.
 */
export async function recordWebSockets (page) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const sockets = new Map()
  const socket = (id) => {
    if (!sockets.has(id)) sockets.set(id, { url: undefined, requestHeaders: {}, status: undefined, sent: [], received: [], closed: false })
    return sockets.get(id)
  }
  cdp.on('Network.webSocketCreated', (e) => { socket(e.requestId).url = e.url })
  cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => { socket(e.requestId).requestHeaders = e.request.headers })
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => { socket(e.requestId).status = e.response.status })
  cdp.on('Network.webSocketFrameSent', (e) => { socket(e.requestId).sent.push(e.response.payloadData) })
  cdp.on('Network.webSocketFrameReceived', (e) => { socket(e.requestId).received.push(e.response.payloadData) })
  cdp.on('Network.webSocketClosed', (e) => { socket(e.requestId).closed = true })
  return { all: () => [...sockets.values()] }
}

/** The offered subprotocols of a recorded handshake. */
export const offeredProtocols = (recorded) => {
  const headers = recorded.requestHeaders
  const name = Object.keys(headers).find((h) => h.toLowerCase() === 'sec-websocket-protocol')
  return name ? headers[name].split(',').map((p) => p.trim()) : []
}

/**
 * Opens `window.socket = kc.socket(url, options)` in the page and records its events in
 * `window.socketLog` ({ type, state, code, reason, delay, attempt, data, wasClean, at }).
 * `options` is a JSON value, plus `optionsSource`: JavaScript evaluated in the page and merged
 * in (for functions such as authMessage).
 */
export async function openSocket (page, url, options = {}, optionsSource = '({})') {
  await page.evaluate(({ url, options, optionsSource }) => {
    // eslint-disable-next-line no-eval
    const extra = (0, eval)(optionsSource)
    const socket = window.kc.socket(url, { ...options, ...extra })
    window.socket = socket
    window.socketLog = []
    for (const type of ['open', 'message', 'close', 'error', 'statechange']) {
      socket.addEventListener(type, (e) => {
        window.socketLog.push({
          type,
          state: e.state,
          code: e.code,
          reason: e.reason,
          delay: e.delay,
          attempt: e.attempt,
          wasClean: e.wasClean,
          data: typeof e.data === 'string' ? e.data : undefined,
          readyState: socket.readyState,
          at: performance.now()
        })
      })
    }
  }, { url, options, optionsSource })
}

/** Waits until the socket log has an entry matching `predicate` (a function source) and returns it. */
export async function waitForLog (page, predicate, { timeout = 20000 } = {}) {
  const handle = await page.waitForFunction((source) => {
    // eslint-disable-next-line no-eval
    const match = (0, eval)(source)
    return (window.socketLog ?? []).find((entry) => {
      const message = entry.data === undefined ? undefined : (() => { try { return JSON.parse(entry.data) } catch { return undefined } })()
      return match(entry, message)
    })
  }, predicate, { timeout })
  return handle.jsonValue()
}

/** The socket's log so far. */
export const socketLog = (page) => page.evaluate(() => window.socketLog)

/** The server messages the socket delivered, parsed. */
export const messages = async (page) => (await socketLog(page))
  .filter((e) => e.type === 'message').map((e) => JSON.parse(e.data))

/** The hub's view: its open connections. */
export const hubConnections = async (world) => (await admin(world, 'GET', '/admin/devserver/hub')).connections

/** Restarts the hub: every connection closes with 1012; new ones are refused while it is down. */
export const restartHub = (world, body) => admin(world, 'POST', '/admin/devserver/hub/restart', body)
export const startHub = (world) => admin(world, 'POST', '/admin/devserver/hub/start')

/** The payload of a JWT. */
export const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

/** Collects the page's console lines. */
export function recordConsole (page) {
  const lines = []
  page.on('console', (message) => lines.push(message.text()))
  return lines
}
