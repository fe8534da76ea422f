// The packed package's TypeScript definitions: a consumer using the whole API compiles with
// `tsc --strict` under moduleResolution bundler and node16, and a deliberate mistake is caught.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './harness.mjs'

const WORK = join(ROOT, 'tests', 'e2e', '.work', 'types')
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc')

// Every constructor form, option, property, method and callback of the API, typed strictly.
const CONSUMER = `
import Keycloak, { Keycloak as Named, KeycloakError, NetworkError, KeycloakSocket } from 'keycloak-wasm'
import type {
  KeycloakSocketOptions, KeycloakSocketStrategy, KeycloakSocketState, KeycloakSocketStateEvent,
  KeycloakSocketData, KeycloakSocketCloseCode,
  KeycloakConfig, KeycloakInitOptions, KeycloakLoginOptions, KeycloakLogoutOptions, KeycloakProfile,
  KeycloakTokenParsed, KeycloakUserInfo, KeycloakAdapter, KeycloakRoles, KeycloakResourceAccess,
  KeycloakInstance, KeycloakErrorCode, KeycloakEndpoints, KeycloakRegisterOptions, KeycloakAccountOptions,
  KeycloakOnLoad, KeycloakFlow, KeycloakResponseMode, KeycloakResponseType, KeycloakPkceMethod
} from 'keycloak-wasm'

const config: KeycloakConfig = { url: 'https://sso.example.com', realm: 'demo', clientId: 'app' }
const kc: KeycloakInstance = new Keycloak(config)
const fromFile = new Named('/keycloak.json')
const oidc = new Keycloak({ clientId: 'app', oidcProvider: 'https://idp.example.com' })
const oidcMeta = new Keycloak({ clientId: 'app', oidcProvider: { authorization_endpoint: 'a', token_endpoint: 't' } })

const adapter: KeycloakAdapter = {
  login: async () => {}, logout: async () => {}, register: async () => {},
  accountManagement: async () => {}, redirectUri: () => 'app://cb'
}
const onLoad: KeycloakOnLoad = 'check-sso'
const flow: KeycloakFlow = 'standard'
const responseMode: KeycloakResponseMode = 'fragment'
const pkceMethod: KeycloakPkceMethod = 'S256'
const initOptions: KeycloakInitOptions = {
  useNonce: true, adapter: 'default', onLoad, token: 't', refreshToken: 'r', idToken: 'i', timeSkew: 0,
  checkLoginIframe: false, checkLoginIframeInterval: 5, responseMode, redirectUri: 'https://app',
  silentCheckSsoRedirectUri: 'https://app/silent.html', silentCheckSsoFallback: true, flow,
  pkceMethod, enableLogging: false, scope: 'email', messageReceiveTimeout: 10000, locale: 'en',
  logoutMethod: 'POST'
}
const withAdapter: KeycloakInitOptions = { adapter, pkceMethod: false }
const loginOptions: KeycloakLoginOptions = {
  scope: 'openid', redirectUri: 'https://app', prompt: 'login', action: 'UPDATE_PASSWORD', maxAge: 0,
  loginHint: 'alice', acr: { values: ['gold'], essential: true }, acrValues: 'gold', idpHint: 'github', locale: 'de'
}
const registerOptions: KeycloakRegisterOptions = { loginHint: 'new' }
const logoutOptions: KeycloakLogoutOptions = { redirectUri: 'https://app', logoutMethod: 'GET' }
const accountOptions: KeycloakAccountOptions = { redirectUri: 'https://app' }

kc.onReady = (authenticated: boolean) => { console.log(authenticated) }
kc.onAuthSuccess = () => {}
kc.onAuthError = (error?: KeycloakError) => { console.log(error?.error, error?.error_description, error?.code, error?.status) }
kc.onAuthRefreshSuccess = () => {}
kc.onAuthRefreshError = () => {}
kc.onAuthLogout = () => {}
kc.onTokenExpired = () => { void kc.updateToken(30) }
kc.onActionUpdate = (status: 'success' | 'cancelled' | 'error', action?: string) => { console.log(status, action) }

async function main (): Promise<void> {
  const authenticated: boolean = await kc.init(initOptions)
  await fromFile.init(withAdapter)
  await oidc.init()
  await oidcMeta.init({ onLoad: 'login-required' })
  const { login, logout, register, accountManagement, createLoginUrl, createLogoutUrl, createRegisterUrl,
    createAccountUrl, isTokenExpired, updateToken, clearToken, hasRealmRole, hasResourceRole,
    loadUserProfile, loadUserInfo } = kc
  const loginUrl: string = await createLoginUrl(loginOptions)
  const registerUrl: string = await createRegisterUrl(registerOptions)
  const logoutUrl: string = createLogoutUrl(logoutOptions)
  const accountUrl: string = createAccountUrl(accountOptions)
  const expired: boolean = isTokenExpired(5)
  const refreshed: boolean = await updateToken(-1)
  const roles: boolean = hasRealmRole('admin') && hasResourceRole('editor') && hasResourceRole('x', 'other')
  const profile: KeycloakProfile = await loadUserProfile()
  const userInfo: KeycloakUserInfo = await loadUserInfo()
  clearToken()
  await login(); await logout(); await register(); await accountManagement()

  const parsed: KeycloakTokenParsed | undefined = kc.tokenParsed
  const audience: string | string[] | undefined = parsed?.aud
  const amr: string | string[] | undefined = parsed?.amr
  const sid: string | undefined = parsed?.sid
  const realmAccess: KeycloakRoles | undefined = kc.realmAccess
  const resourceAccess: KeycloakResourceAccess | undefined = kc.resourceAccess
  const endpoints: KeycloakEndpoints | undefined = kc.endpoints
  const authorize: string | undefined = endpoints?.authorize()
  const responseType: KeycloakResponseType = kc.responseType
  const skew: number | null = kc.timeSkew
  const strings: Array<string | undefined> = [kc.token, kc.refreshToken, kc.idToken, kc.subject, kc.sessionId,
    kc.authServerUrl, kc.realm, kc.clientId, kc.redirectUri, kc.silentCheckSsoRedirectUri, kc.scope, profile.username, userInfo.sub]
  const flags: boolean[] = [authenticated, kc.authenticated, kc.didInitialize, kc.loginRequired,
    kc.silentCheckSsoFallback, kc.enableLogging, expired, refreshed, roles]
  const numbers: number[] = [kc.messageReceiveTimeout]
  const rest = [kc.responseMode, kc.flow, kc.pkceMethod, kc.logoutMethod, kc.refreshTokenParsed, kc.idTokenParsed, kc.profile, kc.userInfo]
  console.log(loginUrl, registerUrl, logoutUrl, accountUrl, audience, amr, sid, realmAccess, resourceAccess,
    authorize, responseType, skew, strings, flags, numbers, rest)

  try {
    await kc.updateToken()
  } catch (error) {
    if (error instanceof NetworkError) {
      const status: number | undefined = error.response?.status ?? error.status
      console.log(status)
    } else if (error instanceof KeycloakError) {
      const code: KeycloakErrorCode = error.code
      const fields: { error: string, error_description: string } = error
      console.log(code, fields, error.message, error instanceof Error)
    }
  }
  const socketOptions: KeycloakSocketOptions = {
    strategy: 'message', protocols: ['keycloak-events.v1'], queryParameter: 'access_token',
    authMessage: (token: string) => ({ connect: { token }, id: 1 }), reauthMessage: '{"refresh":{"token":"{token}"}}',
    reauthenticate: true, minValidity: 30, minDelay: 500, maxDelay: 20000, stableAfter: 5000, heartbeat: 30000,
    ping: { type: 'ping' }
  }
  const strategy: KeycloakSocketStrategy = 'query'
  const socket: KeycloakSocket = kc.socket('wss://hub.example.com/events', socketOptions)
  const other = kc.socket(new URL('wss://hub.example.com/events'), { strategy, ping: null })
  socket.binaryType = 'arraybuffer'
  socket.onopen = () => { socket.send(JSON.stringify({ type: 'ping' })) }
  socket.onmessage = (event: MessageEvent) => { console.log(event.data) }
  socket.onclose = (event: CloseEvent) => { const code: KeycloakSocketCloseCode = event.code; console.log(code, event.reason) }
  socket.onstatechange = (event: KeycloakSocketStateEvent) => { const state: KeycloakSocketState = event.state; console.log(state, event.delay, event.attempt) }
  const onState = (event: KeycloakSocketStateEvent): void => { console.log(event.state, event.code, event.reason) }
  socket.addEventListener('statechange', onState)
  socket.removeEventListener('statechange', onState)
  socket.addEventListener('message', (event) => { const data: unknown = event.data; console.log(data) })
  const ready: number[] = [socket.readyState, socket.CONNECTING, socket.OPEN, KeycloakSocket.CLOSING, KeycloakSocket.CLOSED]
  const socketStrings: string[] = [socket.url, socket.protocol, socket.extensions, socket.state]
  const data: KeycloakSocketData = new Uint8Array(2)
  socket.send(data)
  other.close(4000, 'bye')
  socket.close()
  console.log(ready, socketStrings)

  const made = new KeycloakError('x', { code: 'timeout', status: 504 })
  console.log(made.code, new NetworkError('y').response)
}
void main()
`

// A string where a number belongs, and a property that does not exist.
const MISTAKE = `
import Keycloak from 'keycloak-wasm'
const kc = new Keycloak({ url: 'u', realm: 'r', clientId: 'c' })
void kc.updateToken('soon')
console.log(kc.tokn)
kc.socket('wss://hub', { strategy: 'header' })
`

let project

before(() => {
  rmSync(WORK, { recursive: true, force: true })
  mkdirSync(WORK, { recursive: true })
  const name = execFileSync('npm', ['pack', join(ROOT, 'pkg'), '--pack-destination', WORK, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()
  project = join(WORK, 'project')
  const installed = join(project, 'node_modules', 'keycloak-wasm')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['xzf', join(WORK, name), '-C', installed, '--strip-components=1'])
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  writeFileSync(join(project, 'consumer.ts'), CONSUMER)
  writeFileSync(join(project, 'mistake.ts'), MISTAKE)
})

const MODES = {
  bundler: ['--module', 'esnext', '--moduleResolution', 'bundler'],
  node16: ['--module', 'node16', '--moduleResolution', 'node16']
}

function tsc (file, mode) {
  return spawnSync(TSC, ['--strict', '--noEmit', '--target', 'es2022', '--lib', 'es2022,dom', ...MODES[mode], file],
    { cwd: project, encoding: 'utf8' })
}

for (const mode of Object.keys(MODES)) {
  test(`a consumer of the whole API compiles with tsc --strict (moduleResolution ${mode})`, () => {
    const result = tsc('consumer.ts', mode)
    assert.equal(result.status, 0, result.stdout + result.stderr)
  })

  test(`a type mistake is reported (moduleResolution ${mode})`, () => {
    const result = tsc('mistake.ts', mode)
    assert.notEqual(result.status, 0)
    assert.match(result.stdout, /mistake\.ts\(4,\d+\): error TS2345/)
    assert.match(result.stdout, /mistake\.ts\(5,\d+\): error TS2551: Property 'tokn' does not exist/)
    assert.match(result.stdout, /mistake\.ts\(6,\d+\): error TS2322: Type '"header"' is not assignable to type 'KeycloakSocketStrategy/)
  })
}
