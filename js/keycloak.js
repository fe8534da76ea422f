// The entry point of the keycloak-wasm npm package.
//
// keycloak-js's constructor is synchronous, and so is ours: the WebAssembly module is fetched and
// instantiated on first use, inside init(). Importing this file therefore touches no browser
// global and has no side effects, which keeps server-side rendering working.
//
// This class is a thin shell: the engine (KeycloakCore, in Rust) keeps the state and writes the
// public properties onto this object whenever they change, so they can be read at any moment.
// Callbacks (onReady, onTokenExpired, ...) are looked up on this object when they fire.
import initWasm, { KeycloakCore, SocketMachine } from './keycloak_wasm.js'

let wasmReady
function loadWasm () {
  // A failed download may succeed on the next init(), so a rejection is not cached.
  wasmReady ??= initWasm().catch((error) => {
    wasmReady = undefined
    throw error
  })
  return wasmReady
}

const isObject = (value) => typeof value === 'object' && value !== null

/**
 * Every rejection of keycloak-wasm: an Error with a stable `code`, which still has the `error`
 * and `error_description` fields of keycloak-js's plain error objects.
 */
export class KeycloakError extends Error {
  constructor (message, { code = 'error', error, error_description: description, status, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'KeycloakError'
    this.code = code
    this.error = error ?? code
    this.error_description = description ?? message
    if (status !== undefined) this.status = status
  }
}

/** A failed HTTP exchange (no reply, a timeout, or an error status); `response` when there was one. */
export class NetworkError extends KeycloakError {
  constructor (message, options = {}) {
    super(message, options)
    this.name = 'NetworkError'
    this.response = options.response
  }
}

// How the engine creates its errors.
const makeError = (code, message, error, description, status, response) =>
  new (status !== undefined || code === 'network_error' || code === 'timeout' ? NetworkError : KeycloakError)(
    message, { code, error, error_description: description, status, response })

const notInitialized = () => {
  throw new KeycloakError("The 'Keycloak' instance is not initialized: call init() first.", { code: 'not_initialized' })
}

/** The live sockets of each instance: the functions that feed their machines. */
const liveSockets = new WeakMap()

/** Closes every live socket of `keycloak` for good: the user logged out or the tokens were cleared. */
function endSockets (keycloak) {
  for (const feed of [...(liveSockets.get(keycloak) ?? [])]) feed({ type: 'end' })
}

/** What an authentication message function returns, as `send` takes it; undefined if it threw. */
function buildMessage (build, token) {
  try {
    const value = build(token)
    if (typeof value === 'string' || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value
    try { return JSON.stringify(value) } catch { return value }
  } catch (thrown) {
    reportError(thrown)
  }
}

/**
 * What `keycloak.socket(url, options)` returns: a WebSocket that stays authenticated. Its life
 * is a machine in the wasm module (src/core/socket/machine.rs) that decides everything; this
 * class feeds it what happens (the instance's token, the connection's events, timers, the page
 * going online or visible, the application's calls) and performs what it answers.
 */
export class KeycloakSocket extends EventTarget {
  #feed
  #send
  readyState = 0
  state = 'connecting'
  protocol = ''
  extensions = ''
  binaryType = 'blob'

  constructor (keycloak, url, options) {
    super()
    this.url = url
    options ??= {}
    for (const type of ['open', 'message', 'close', 'error', 'statechange']) {
      this['on' + type] = null
      // Registered first, so the on* handler runs before other listeners, as on a WebSocket.
      this.addEventListener(type, (event) => this['on' + type]?.call(this, event))
    }
    const builders = { authMessage: options.authMessage, reauthMessage: options.reauthMessage }
    const functions = Object.keys(builders).filter((name) => typeof builders[name] === 'function')
    let json
    try { json = JSON.stringify(options) ?? 'null' } catch {}
    let machine
    try {
      machine = new SocketMachine(String(url), json, functions.join())
    } catch (thrown) {
      const { code, message } = JSON.parse(thrown)
      throw new KeycloakError(message, { code })
    }
    const connections = new Map()
    const timers = new Map()
    // The message being reported, and the data of the send being asked for.
    let received, sending
    const page = (event) => feed({ type: event.type, hidden: globalThis.document?.hidden ?? false })
    const feed = this.#feed = (event) => {
      const effects = JSON.parse(machine.handle(JSON.stringify(event), Date.now(), Math.random()))
      for (const effect of effects) perform(effect)
    }
    const perform = ({ do: what, conn, timer, ...effect }) => {
      const ws = connections.get(conn)
      switch (what) {
        case 'token':
          (async () => keycloak.updateToken(effect.minValidity))().catch(() => {}).then(() => feed({
            type: 'token', request: effect.request, token: keycloak.token, exp: keycloak.tokenParsed?.exp, skew: keycloak.timeSkew
          }))
          break
        case 'connect': {
          let ws
          // The browser's exception is not passed on: it may quote the URL, and so the token.
          try { ws = new WebSocket(effect.url, effect.protocols) } catch { return feed({ type: 'openFailed', conn }) }
          ws.binaryType = 'arraybuffer'
          ws.onopen = () => feed({ type: 'open', conn, protocol: ws.protocol, extensions: ws.extensions })
          ws.onmessage = (event) => {
            received = event
            feed({ type: 'message', conn, text: typeof event.data === 'string' ? event.data : undefined })
          }
          ws.onclose = ({ code, reason }) => { connections.delete(conn); feed({ type: 'close', conn, code, reason }) }
          ws.onerror = () => feed({ type: 'error', conn })
          connections.set(conn, ws)
          break
        }
        case 'send': {
          const data = 'text' in effect ? effect.text : effect.build ? buildMessage(builders[effect.build], effect.token) : sending
          try { if (data !== undefined) ws?.send(data) } catch {}
          break
        }
        case 'disconnect':
          connections.delete(conn)
          if (ws) {
            ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null
            try { ws.close(effect.code, '') } catch {}
          }
          break
        case 'arm':
          timers.set(timer, setTimeout(() => { timers.delete(timer); feed({ type: 'timer', timer }) }, effect.ms))
          break
        case 'cancel':
          clearTimeout(timers.get(timer))
          timers.delete(timer)
          break
        case 'state':
          this.readyState = effect.readyState
          this.state = effect.detail.state
          this.dispatchEvent(Object.assign(new Event('statechange'), effect.detail))
          break
        case 'negotiated':
          this.protocol = effect.protocol
          this.extensions = effect.extensions
          break
        case 'emit':
          this.dispatchEvent(new Event(effect.type))
          break
        case 'message': {
          let data = received.data
          // The connection receives ArrayBuffers; binaryType decides what the app gets.
          if (this.binaryType === 'blob' && data instanceof ArrayBuffer) data = new Blob([data])
          this.dispatchEvent(new MessageEvent('message', { data, origin: received.origin }))
          break
        }
        case 'close':
          this.dispatchEvent(new CloseEvent('close', effect.init))
          break
        case 'unlisten':
          globalThis.removeEventListener?.('online', page)
          globalThis.removeEventListener?.('visibilitychange', page)
          liveSockets.get(keycloak)?.delete(feed)
          break
        case 'throw':
          throw new KeycloakError(effect.message, { code: effect.code })
        case 'log':
          if (keycloak.enableLogging) console.info('[KEYCLOAK] ' + effect.message)
          break
        case 'warn':
          console.warn('[KEYCLOAK] ' + effect.message)
      }
    }
    this.#send = (data) => {
      sending = data
      try { feed({ type: 'send' }) } finally { sending = undefined }
    }
    globalThis.addEventListener?.('online', page)
    globalThis.addEventListener?.('visibilitychange', page)
    if (!liveSockets.has(keycloak)) liveSockets.set(keycloak, new Set())
    liveSockets.get(keycloak).add(feed)
    // After the constructor returns, so that listeners added right away see every event.
    queueMicrotask(() => feed({ type: 'start' }))
  }

  send (data) { this.#send(data) }
  close (code, reason) { this.#feed({ type: 'appClose', code, reason: reason === undefined ? reason : String(reason) }) }
}
for (const [i, name] of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].entries()) {
  KeycloakSocket[name] = KeycloakSocket.prototype[name] = i
}

/**
 * The other tabs of the origin, for the engine (src/web/tabs.rs): a channel on which tabs share
 * the tokens of a refresh, and a lock that makes their refreshes wait for each other.
 */
const tabs = {
  /** Opens the channel `name`; its string messages go to `receive`. Undefined without BroadcastChannel. */
  open (name, receive) {
    if (typeof BroadcastChannel !== 'function') return
    const channel = new BroadcastChannel(name)
    channel.onmessage = ({ data }) => { if (typeof data === 'string') receive(data) }
    return channel
  },
  /**
   * Takes the lock `name`: `[release, waited]` once held (`waited`: another tab held it first),
   * undefined without Web Locks or when it is not granted within `ms`.
   */
  async lock (name, ms) {
    const locks = globalThis.navigator?.locks
    if (!locks) return
    for (const options of [{ ifAvailable: true }, { signal: AbortSignal.timeout(ms) }]) {
      const held = await new Promise((resolve) => {
        locks.request(name, options, (lock) => lock
          ? new Promise((release) => resolve([release, !options.ifAvailable]))
          : resolve()).catch(() => resolve())
      })
      if (held) return held
    }
  }
}

export class Keycloak {
  #config
  #core
  /** timeSkew as assigned before init(). */
  #skew = null

  didInitialize = false
  authenticated = false
  loginRequired = false
  responseMode = 'fragment'
  responseType = 'code'
  flow = 'standard'
  silentCheckSsoFallback = true
  pkceMethod = 'S256'
  enableLogging = false
  logoutMethod = 'GET'
  messageReceiveTimeout = 10000

  constructor (config) {
    if (typeof config !== 'string' && !isObject(config)) {
      throw new KeycloakError("The 'Keycloak' constructor must be provided with a configuration object, or a URL to a JSON configuration file.", { code: 'invalid_config' })
    }
    if (isObject(config)) {
      const required = 'oidcProvider' in config ? ['clientId'] : ['url', 'realm', 'clientId']
      for (const property of required) {
        if (!(property in config)) {
          throw new KeycloakError(`The configuration object is missing the required '${property}' property.`, { code: 'invalid_config' })
        }
      }
    }
    this.#config = config
    // keycloak-js reads timeSkew whenever it needs it, and applications assign it; the engine
    // holds it, so an assignment counts at once (also for the onTokenExpired timer).
    Object.defineProperty(this, 'timeSkew', {
      enumerable: true,
      get: () => this.#core ? this.#core.timeSkew() ?? null : this.#skew,
      set: (value) => { this.#skew = value; this.#core?.setTimeSkew(value) }
    })
  }

  #c = () => this.#core ?? notInitialized()

  init = async (initOptions = {}) => {
    if (this.didInitialize) {
      throw new KeycloakError("A 'Keycloak' instance can only be initialized once.", { code: 'already_initialized' })
    }
    this.didInitialize = true
    try {
      await loadWasm()
    } catch (cause) {
      this.didInitialize = false
      throw new NetworkError('The keycloak-wasm WebAssembly module could not be loaded.', { code: 'network_error', cause })
    }
    const core = this.#core = new KeycloakCore(this.#config, this, makeError, tabs, () => endSockets(this))
    // A skew assigned before init() counts unless init() is given one.
    if (this.#skew != null) core.setTimeSkew(this.#skew)
    const endpoint = (name) => () => core.endpoint(name)
    this.endpoints = {}
    for (const name of ['authorize', 'token', 'logout', 'checkSessionIframe', 'thirdPartyCookiesIframe', 'register', 'userinfo']) {
      this.endpoints[name] = endpoint(name)
    }
    return core.init(initOptions)
  }

  login = async (options) => this.#c().login(options)
  createLoginUrl = async (options) => this.#c().createLoginUrl(options)
  logout = async (options) => this.#c().logout(options)
  createLogoutUrl = (options) => this.#c().createLogoutUrl(options)
  register = async (options) => this.#c().register(options)
  createRegisterUrl = async (options) => this.#c().createRegisterUrl(options)
  accountManagement = async () => this.#c().accountManagement()
  createAccountUrl = (options) => this.#c().createAccountUrl(options)
  // Before init() there are no tokens: these answer as keycloak-js does then.
  isTokenExpired = (minValidity) => {
    if (!this.#core) throw makeError('not_authenticated', 'Not authenticated')
    return this.#core.isTokenExpired(minValidity)
  }

  updateToken = async (minValidity) => {
    if (!this.#core) throw makeError('no_refresh_token', 'Unable to update token, no refresh token available.')
    return this.#core.updateToken(minValidity)
  }

  clearToken = () => this.#core?.clearToken()
  hasRealmRole = (role) => this.#core?.hasRealmRole(role) ?? false
  hasResourceRole = (role, resource) => this.#core?.hasResourceRole(role, resource) ?? false
  loadUserProfile = async () => this.#c().loadUserProfile()
  loadUserInfo = async () => this.#c().loadUserInfo()
  socket = (url, options) => {
    this.#c()
    return new KeycloakSocket(this, url, options)
  }
}

export default Keycloak
