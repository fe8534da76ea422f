// Shared pieces of the socket scenarios: keycloak-wasm's `keycloak.socket()` in the app page,
// talking to devserver's live-event hub (`/events`), observed from three sides: the events the
// socket fires, the handshakes and frames the browser records, and the hub's own status knob.
import { admin } from '../adapter/setup.mjs'
import { ENGINE } from '../harness.mjs'
export { useWorld, newPage, signedIn, submitLogin, admin, addFault, clearFaults, passTime } from '../adapter/setup.mjs'

/** The hub's WebSocket URL on the world's devserver. */
export const hubUrl = (world) => `${world.server.url.replace(/^http/, 'ws')}/events`

/**
 * Records the page's WebSocket traffic: every connection's URL, its handshake request headers and
 * response status, the frames sent and received, whether it closed. Chromium reports them through
 * the DevTools protocol; Firefox's WebDriver BiDi has no WebSocket events, so there the page's
 * WebSocket constructor is wrapped before any script runs (see `recordWebSocketsInPage`).
 */
export async function recordWebSockets (page) {
  if (ENGINE === 'firefox') return recordWebSocketsInPage(page)
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

/**
 * The same record, taken at the page's WebSocket API: a subclass of WebSocket, installed before
 * the page's scripts, reports each connection to the test through a binding. The handshake's
 * `Sec-WebSocket-Protocol` header is the constructor's protocol list, as the browser sends it;
 * the status is 101 once open and stays unknown for a refused handshake; binary frames sent are
 * base64, as the DevTools protocol gives them.
 */
async function recordWebSocketsInPage (page) {
  const sockets = new Map()
  await page.exposeBinding('recordWebSocket', (_source, { id, kind, value }) => {
    if (kind === 'created') {
      const requestHeaders = value.protocols.length ? { 'Sec-WebSocket-Protocol': value.protocols.join(', ') } : {}
      sockets.set(id, { url: value.url, requestHeaders, status: undefined, sent: [], received: [], closed: false })
      return
    }
    const socket = sockets.get(id)
    if (!socket) return
    if (kind === 'open') socket.status = 101
    else if (kind === 'sent') socket.sent.push(value)
    else if (kind === 'received') socket.received.push(value)
    else if (kind === 'closed') socket.closed = true
  })
  await page.addInitScript(() => {
    const report = window.recordWebSocket
    // Ids unique across the page's documents: each navigation runs this script anew.
    const documentId = Math.random().toString(36).slice(2)
    const ids = new WeakMap()
    let count = 0
    const base64 = (data) => {
      const bytes = new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data)
      return btoa(String.fromCharCode(...bytes))
    }
    window.WebSocket = class extends window.WebSocket {
      constructor (url, protocols) {
        super(url, protocols)
        const id = `${documentId}-${++count}`
        ids.set(this, id)
        const offered = protocols === undefined ? [] : [].concat(protocols)
        report({ id, kind: 'created', value: { url: this.url, protocols: offered } })
        this.addEventListener('open', () => report({ id, kind: 'open' }))
        this.addEventListener('message', (e) => { if (typeof e.data === 'string') report({ id, kind: 'received', value: e.data }) })
        this.addEventListener('close', () => report({ id, kind: 'closed' }))
      }

      send (data) {
        if (this.readyState === 1) {
          const frame = typeof data === 'string' ? data : data instanceof Blob ? undefined : base64(data)
          if (frame !== undefined) report({ id: ids.get(this), kind: 'sent', value: frame })
        }
        return super.send(data)
      }
    }
  })
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
