// The entry point of the keycloak-wasm npm package.
//
// keycloak-js's constructor is synchronous, and so is ours: the WebAssembly module is fetched and
// instantiated on first use, inside init(). Importing this file therefore touches no browser
// global and has no side effects, which keeps server-side rendering working.
//
// This class is a thin shell: the engine (KeycloakCore, in Rust) keeps the state and writes the
// public properties onto this object whenever they change, so they can be read at any moment.
// Callbacks (onReady, onTokenExpired, ...) are looked up on this object when they fire.
import initWasm, { KeycloakCore } from './keycloak_wasm.js'

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

/**
 * What `keycloak.socket(url, options)` returns: a WebSocket that stays authenticated. The engine
 * decides everything; this class only turns what it emits into events and keeps the properties
 * it writes (`readyState`, `state`, `protocol`, `extensions`).
 */
export class KeycloakSocket extends EventTarget {
  #core
  #id
  readyState = 0
  state = 'connecting'
  protocol = ''
  extensions = ''
  binaryType = 'blob'

  constructor (core, url, options) {
    super()
    this.url = url
    this.#core = core
    for (const type of ['open', 'message', 'close', 'error', 'statechange']) {
      this['on' + type] = null
      // Registered first, so the on* handler runs before other listeners, as on a WebSocket.
      this.addEventListener(type, (event) => this['on' + type]?.call(this, event))
    }
    this.#id = core.socket(String(url), options ?? {}, this, (type, init) => {
      let data = init?.data
      // The connection receives ArrayBuffers; binaryType decides what the app gets.
      if (this.binaryType === 'blob' && data instanceof ArrayBuffer) data = new Blob([data])
      this.dispatchEvent(type === 'message'
        ? new MessageEvent(type, { data, origin: init.origin })
        : type === 'close' ? new CloseEvent(type, init) : Object.assign(new Event(type), init))
    })
  }

  send (data) { this.#core.socketSend(this.#id, data) }
  close (code, reason) { this.#core.socketClose(this.#id, code, reason) }
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
    const core = this.#core = new KeycloakCore(this.#config, this, makeError, tabs)
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
  socket = (url, options) => new KeycloakSocket(this.#c(), url, options)
}

export default Keycloak
