// Type definitions for keycloak-wasm. They follow keycloak-js 26.2's definitions, so existing
// TypeScript code compiles unchanged, and correct them where they disagree with what a server
// really sends (`aud` and `amr` may be arrays, `sid`) or leave out what the runtime exposes.

export type KeycloakOnLoad = 'login-required' | 'check-sso'
export type KeycloakResponseMode = 'query' | 'fragment'
export type KeycloakResponseType = 'code' | 'id_token token' | 'code id_token token'
export type KeycloakFlow = 'standard' | 'implicit' | 'hybrid'
export type KeycloakPkceMethod = 'S256' | false
export type KeycloakLogoutMethod = 'GET' | 'POST'

/** A Keycloak server: the realm URL is `${url}/realms/${realm}`. */
export interface KeycloakServerConfig {
  url: string
  realm: string
  clientId: string
}

/** Any OpenID Connect provider, by issuer URL (discovery) or by its metadata. */
export interface GenericOidcConfig {
  clientId: string
  oidcProvider: string | OpenIdProviderMetadata
}

export interface OpenIdProviderMetadata {
  authorization_endpoint: string
  token_endpoint: string
  userinfo_endpoint?: string
  check_session_iframe?: string
  end_session_endpoint?: string
  [key: string]: unknown
}

export type KeycloakConfig = KeycloakServerConfig | GenericOidcConfig

export interface Acr {
  values: string[]
  essential: boolean
}

export interface KeycloakInitOptions {
  /** Send a nonce and check it in the ID token. Default true. */
  useNonce?: boolean
  /**
   * 'default' (the browser) or a custom adapter object. 'cordova' and 'cordova-native' are
   * accepted by the types for compatibility but rejected by `init()`.
   */
  adapter?: 'default' | 'cordova' | 'cordova-native' | KeycloakAdapter
  onLoad?: KeycloakOnLoad
  /** Initial tokens; used only when both `token` and `refreshToken` are given. */
  token?: string
  refreshToken?: string
  idToken?: string
  /** Seconds the client clock is behind the server's; computed from the token when absent. */
  timeSkew?: number
  /** Watch the SSO session through the login-status iframe. Default true. */
  checkLoginIframe?: boolean
  /** Seconds between two session checks. Default 5. */
  checkLoginIframeInterval?: number
  responseMode?: KeycloakResponseMode
  redirectUri?: string
  silentCheckSsoRedirectUri?: string
  silentCheckSsoFallback?: boolean
  flow?: KeycloakFlow
  pkceMethod?: KeycloakPkceMethod
  enableLogging?: boolean
  /** Extra scopes; 'openid' is always added. */
  scope?: string
  /** Milliseconds to wait for any network or iframe answer before rejecting. Default 10000. */
  messageReceiveTimeout?: number
  /** Sent as `ui_locales`. */
  locale?: string
  logoutMethod?: KeycloakLogoutMethod
}

export interface KeycloakLoginOptions {
  scope?: string
  redirectUri?: string
  prompt?: 'none' | 'login' | 'consent'
  /** 'register', or a required action such as 'UPDATE_PASSWORD' (sent as `kc_action`). */
  action?: string
  maxAge?: number
  loginHint?: string
  acr?: Acr
  acrValues?: string
  idpHint?: string
  locale?: string
  /** Cordova only in keycloak-js; accepted and ignored. */
  cordovaOptions?: { [optionName: string]: string }
}

export interface KeycloakLogoutOptions {
  redirectUri?: string
  logoutMethod?: KeycloakLogoutMethod
}

export interface KeycloakRegisterOptions extends Omit<KeycloakLoginOptions, 'action'> {}

export interface KeycloakAccountOptions {
  redirectUri?: string
}

export interface KeycloakRedirectUriOptions {
  redirectUri?: string
}

/** What keycloak-js rejects with: `{ error, error_description }`. */
export interface KeycloakErrorData {
  error: string
  error_description: string
}

/**
 * Stable machine-readable codes carried by {@link KeycloakError}: those of `ErrorCode` in
 * src/core/error.rs, which a native test checks against this union.
 */
export type KeycloakErrorCode =
  | 'invalid_config' | 'invalid_option' | 'network_error' | 'server_error' | 'timeout'
  | 'invalid_state' | 'invalid_nonce' | 'invalid_issuer' | 'not_authenticated'
  | 'no_refresh_token' | 'not_supported' | 'invalid_token' | 'invalid_response' | 'storage'
  | 'already_initialized' | 'not_initialized' | (string & {})

export interface KeycloakErrorOptions {
  code?: KeycloakErrorCode
  error?: string
  error_description?: string
  status?: number
  cause?: unknown
}

/**
 * Every rejection of keycloak-wasm. It is an `Error` with a stable `code`, and it still has the
 * `error` and `error_description` fields that keycloak-js's plain objects had.
 */
export declare class KeycloakError extends Error implements KeycloakErrorData {
  constructor (message: string, options?: KeycloakErrorOptions)
  readonly code: KeycloakErrorCode
  /** The OAuth `error` of a server reply, or the code. */
  readonly error: string
  readonly error_description: string
  /** The HTTP status of the reply that failed, when there was one. */
  readonly status?: number
}

/** A failed HTTP exchange, as keycloak-js's `NetworkError`: it carries the response. */
export declare class NetworkError extends KeycloakError {
  constructor (message: string, options?: KeycloakErrorOptions & { response?: Response })
  /** The reply, when the server sent one (absent for timeouts and unreachable servers). */
  readonly response?: Response
}

export interface KeycloakAdapter {
  login: (options?: KeycloakLoginOptions) => Promise<void>
  logout: (options?: KeycloakLogoutOptions) => Promise<void>
  register: (options?: KeycloakRegisterOptions) => Promise<void>
  accountManagement: () => Promise<void>
  redirectUri: (options?: KeycloakRedirectUriOptions) => string
}

export interface KeycloakProfile {
  id?: string
  username?: string
  email?: string
  firstName?: string
  lastName?: string
  enabled?: boolean
  emailVerified?: boolean
  totp?: boolean
  createdTimestamp?: number
  attributes?: Record<string, unknown>
}

export interface KeycloakTokenParsed {
  iss?: string
  sub?: string
  /** A single audience or several. */
  aud?: string | string[]
  exp?: number
  iat?: number
  auth_time?: number
  nonce?: string
  acr?: string
  amr?: string | string[]
  azp?: string
  /** The SSO session id (Keycloak ≥ 23 sends `sid`, older servers `session_state`). */
  sid?: string
  session_state?: string
  typ?: string
  scope?: string
  realm_access?: KeycloakRoles
  resource_access?: KeycloakResourceAccess
  [key: string]: any
}

export interface KeycloakResourceAccess {
  [client: string]: KeycloakRoles
}

export interface KeycloakRoles {
  roles: string[]
}

export interface KeycloakUserInfo {
  sub: string
  [key: string]: any
}

/**
 * The server's endpoints, resolved during init(). One the server does not offer (generic OIDC
 * mode) throws when called.
 */
export interface KeycloakEndpoints {
  authorize: () => string
  token: () => string
  logout: () => string
  checkSessionIframe: () => string
  thirdPartyCookiesIframe: () => string
  register: () => string
  userinfo: () => string
}

/**
 * How `keycloak.socket()` hands the access token to the server: the `Sec-WebSocket-Protocol`
 * header as `bearer.<jwt>` (the default), the first message, or a query parameter (opt-in: URLs
 * end up in server, proxy and browser logs).
 */
export type KeycloakSocketStrategy = 'subprotocol' | 'message' | 'query'

/** `connecting` (getting a token, opening), `open`, `reconnecting` (waiting), `closed` (for good). */
export type KeycloakSocketState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** What `send()` accepts, as `WebSocket.send`. */
export type KeycloakSocketData = string | ArrayBufferLike | Blob | ArrayBufferView

/** Builds the authentication message from the token: a string, binary data, or a value sent as JSON. */
export type KeycloakSocketMessage = string | ((token: string) => unknown)

export interface KeycloakSocketOptions {
  /** Default 'subprotocol'. */
  strategy?: KeycloakSocketStrategy
  /** The application subprotocols offered. Default `['keycloak-events.v1']`. */
  protocols?: string | string[]
  /** The query strategy's parameter. Default 'access_token'. */
  queryParameter?: string
  /**
   * The first message of the 'message' strategy: a function of the token, or a template in which
   * `{token}` is replaced. Default `'{"type":"auth","token":"{token}"}'`.
   */
  authMessage?: KeycloakSocketMessage
  /** The in-band re-authentication message. Default: `authMessage`. */
  reauthMessage?: KeycloakSocketMessage
  /**
   * Send a fresh token in-band before the current one expires (at the `ttl` the server's
   * `welcome` / `reauthenticated` message advertises, else at the token's `exp`, minus
   * `minValidity`). Default true. When false, the server closes the connection at expiry and
   * the socket reconnects with a fresh token.
   */
  reauthenticate?: boolean
  /** Seconds passed to `updateToken` before every connect and re-authentication. Default 30. */
  minValidity?: number
  /** Milliseconds (more than 0): the backoff's least wait. Default 1000. */
  minDelay?: number
  /** Milliseconds: the backoff's longest wait. Default 30000. */
  maxDelay?: number
  /** Milliseconds a connection must last for the backoff to start over. Default 10000. */
  stableAfter?: number
  /**
   * Milliseconds of silence after which `ping` is sent; after twice as long the connection counts
   * as dead and is replaced. Default 30000; 0 turns the heartbeat off.
   */
  heartbeat?: number
  /** The heartbeat probe (objects are sent as JSON). Default `{"type":"ping"}`; null: never probe. */
  ping?: string | object | null | false
}

/** `statechange`: the new state, and for `reconnecting` why and how long the wait is. */
export interface KeycloakSocketStateEvent extends Event {
  readonly state: KeycloakSocketState
  /** The close code that ended the connection (absent when the token could not be refreshed). */
  readonly code?: number
  readonly reason?: string
  /** Milliseconds until the next attempt (`reconnecting`). */
  readonly delay?: number
  /** How many attempts the backoff has counted (`reconnecting`). */
  readonly attempt?: number
}

export interface KeycloakSocketEventMap {
  open: Event
  message: MessageEvent
  /** Fired once, when the socket closes for good. */
  close: CloseEvent
  error: Event
  statechange: KeycloakSocketStateEvent
}

/**
 * The close codes of `keycloak.socket()`: 1000 `close()`; 4001 logged out (`logout()`,
 * `clearToken()`, a refused refresh token); 4401 unauthorized (the server refused the token, or
 * there is none); 4403 forbidden (the server refused the user); 1006 the WebSocket could not be
 * created. 4000 (heartbeat timeout) and the server's other codes only appear in `statechange`.
 */
export type KeycloakSocketCloseCode = 1000 | 1006 | 4000 | 4001 | 4401 | 4403 | (number & {})

/**
 * A WebSocket that stays authenticated with the instance's tokens: `keycloak.socket(url, options)`.
 * It behaves like a `WebSocket` (`readyState`, `send`, `close`, `binaryType`, `protocol`, events
 * and `on*` handlers) and reconnects by itself: `open` fires for every connection, `close` only
 * once, when it closes for good; `statechange` tells everything in between. A `ws:` URL of a
 * host other than loopback gets one `console.warn`: the token would travel unencrypted.
 */
export declare class KeycloakSocket extends EventTarget {
  private constructor ()
  static readonly CONNECTING: 0
  static readonly OPEN: 1
  static readonly CLOSING: 2
  static readonly CLOSED: 3
  readonly CONNECTING: 0
  readonly OPEN: 1
  readonly CLOSING: 2
  readonly CLOSED: 3

  readonly url: string
  /** 0 while connecting or waiting to reconnect, 1 open, 3 closed for good. */
  readonly readyState: number
  readonly state: KeycloakSocketState
  /** The subprotocol the server chose. */
  readonly protocol: string
  readonly extensions: string
  binaryType: BinaryType

  onopen: ((this: KeycloakSocket, event: Event) => any) | null
  onmessage: ((this: KeycloakSocket, event: MessageEvent) => any) | null
  onclose: ((this: KeycloakSocket, event: CloseEvent) => any) | null
  onerror: ((this: KeycloakSocket, event: Event) => any) | null
  onstatechange: ((this: KeycloakSocket, event: KeycloakSocketStateEvent) => any) | null

  /** Throws a `KeycloakError` ('invalid_state') unless open; after the final close, sends nothing. */
  send (data: KeycloakSocketData): void
  /** Closes for good. */
  close (code?: number, reason?: string): void

  addEventListener<K extends keyof KeycloakSocketEventMap>(type: K, listener: (this: KeycloakSocket, event: KeycloakSocketEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void
  addEventListener (type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof KeycloakSocketEventMap>(type: K, listener: (this: KeycloakSocket, event: KeycloakSocketEventMap[K]) => any, options?: boolean | EventListenerOptions): void
  removeEventListener (type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void
}

export type KeycloakInstance = Keycloak

export declare class Keycloak {
  constructor (config: KeycloakConfig | string)

  authenticated: boolean
  subject?: string
  responseMode: KeycloakResponseMode
  responseType: KeycloakResponseType
  flow: KeycloakFlow
  realmAccess?: KeycloakRoles
  resourceAccess?: KeycloakResourceAccess
  token?: string
  tokenParsed?: KeycloakTokenParsed
  refreshToken?: string
  refreshTokenParsed?: KeycloakTokenParsed
  idToken?: string
  idTokenParsed?: KeycloakTokenParsed
  /**
   * Seconds the client clock is behind the server's (null until known). Measured at each token
   * response; the application may assign it at any time, and every later isTokenExpired(),
   * updateToken() and the onTokenExpired timer use the new value.
   */
  timeSkew: number | null
  didInitialize: boolean
  loginRequired: boolean
  authServerUrl?: string
  realm?: string
  clientId?: string
  redirectUri?: string
  sessionId?: string
  profile?: KeycloakProfile
  userInfo?: KeycloakUserInfo
  silentCheckSsoRedirectUri?: string
  silentCheckSsoFallback: boolean
  pkceMethod: KeycloakPkceMethod
  enableLogging: boolean
  logoutMethod: KeycloakLogoutMethod
  scope?: string
  messageReceiveTimeout: number
  endpoints?: KeycloakEndpoints

  onReady?: (authenticated: boolean) => void
  onAuthSuccess?: () => void
  /** Called with the error of a failed callback; without an argument when the token request failed. */
  onAuthError?: (errorData?: KeycloakError) => void
  onAuthRefreshSuccess?: () => void
  onAuthRefreshError?: () => void
  onAuthLogout?: () => void
  /** Fires when the access token expires, whenever it was assigned (also after init()). */
  onTokenExpired?: () => void
  onActionUpdate?: (status: 'success' | 'cancelled' | 'error', action?: string) => void

  // Methods are instance properties, so they keep working when destructured.
  init: (initOptions?: KeycloakInitOptions) => Promise<boolean>
  login: (options?: KeycloakLoginOptions) => Promise<void>
  logout: (options?: KeycloakLogoutOptions) => Promise<void>
  register: (options?: KeycloakRegisterOptions) => Promise<void>
  accountManagement: () => Promise<void>
  createLoginUrl: (options?: KeycloakLoginOptions) => Promise<string>
  createLogoutUrl: (options?: KeycloakLogoutOptions) => string
  createRegisterUrl: (options?: KeycloakRegisterOptions) => Promise<string>
  createAccountUrl: (options?: KeycloakAccountOptions) => string
  isTokenExpired: (minValidity?: number) => boolean
  updateToken: (minValidity?: number) => Promise<boolean>
  clearToken: () => void
  hasRealmRole: (role: string) => boolean
  hasResourceRole: (role: string, resource?: string) => boolean
  loadUserProfile: () => Promise<KeycloakProfile>
  loadUserInfo: () => Promise<KeycloakUserInfo>
  /** A WebSocket to `url` that stays authenticated with this instance's tokens. */
  socket: (url: string | URL, options?: KeycloakSocketOptions) => KeycloakSocket
}

export default Keycloak
export as namespace Keycloak
