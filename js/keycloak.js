// The entry point of the keycloak-wasm npm package.
//
// keycloak-js's constructor is synchronous, and so is ours: the WebAssembly module is fetched and
// instantiated on first use, inside init(). Importing this file therefore touches no browser
// global and has no side effects, which keeps server-side rendering working.
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

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)

export class Keycloak {
  #config
  #core

  didInitialize = false
  authenticated = false
  loginRequired = false
  responseMode = 'fragment'
  responseType = 'code'
  flow = 'standard'
  timeSkew = null
  silentCheckSsoFallback = true
  pkceMethod = 'S256'
  enableLogging = false
  logoutMethod = 'GET'
  messageReceiveTimeout = 10000

  constructor (config) {
    if (typeof config !== 'string' && !isObject(config)) {
      throw new Error("The 'Keycloak' constructor must be provided with a configuration object, or a URL to a JSON configuration file.")
    }
    if (isObject(config)) {
      const required = 'oidcProvider' in config ? ['clientId'] : ['url', 'realm', 'clientId']
      for (const property of required) {
        if (!(property in config)) {
          throw new Error(`The configuration object is missing the required '${property}' property.`)
        }
      }
    }
    this.#config = config
  }

  init = async (initOptions = {}) => {
    if (this.didInitialize) {
      throw new Error("A 'Keycloak' instance can only be initialized once.")
    }
    this.didInitialize = true
    await loadWasm()
    const config = this.#config
    this.#core = new KeycloakCore(String(config.url ?? ''), String(config.realm ?? ''), String(config.clientId ?? ''))
    this.authServerUrl = config.url
    this.realm = config.realm
    this.clientId = config.clientId
    const core = this.#core
    this.endpoints = {
      authorize: () => core.authorizationEndpoint()
    }
    this.onReady?.(this.authenticated)
    return this.authenticated
  }
}

export default Keycloak
