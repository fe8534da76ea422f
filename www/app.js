// The demo app: check-sso on load, the user and their roles, the access token's countdown, and a
// live feed of Keycloak events over keycloak-wasm's authenticated WebSocket.
import Keycloak from 'keycloak-wasm'

const $ = (id) => document.getElementById(id)

// The devserver serving this page is also the Keycloak stand-in (realm `demo`) and the event hub.
const keycloak = new Keycloak({ url: location.origin, realm: 'demo', clientId: 'demo-app' })
window.keycloak = keycloak

let refreshes = 0
/** User ids to usernames, as far as the events have told. */
const names = new Map()

function setStatus (text, state) {
  $('status').textContent = text
  $('status').dataset.state = state
}

function fact (name, value) {
  const dt = document.createElement('dt')
  dt.textContent = name
  const dd = document.createElement('dd')
  dd.textContent = value
  $('facts').append(dt, dd)
}

const time = (seconds) => new Date(seconds * 1000).toLocaleTimeString()

function showUser () {
  const id = keycloak.idTokenParsed ?? {}
  const token = keycloak.tokenParsed ?? {}
  const name = id.name ?? id.preferred_username ?? token.preferred_username ?? keycloak.subject
  $('user-name').textContent = name
  $('user-email').textContent = id.email ?? token.email ?? ''
  $('avatar').textContent = (name ?? '?').slice(0, 1).toUpperCase()
  $('user-sub').textContent = keycloak.subject
  $('user-session').textContent = keycloak.sessionId ?? '–'
  $('user-realm').textContent = keycloak.realm
  const roles = (keycloak.realmAccess?.roles ?? []).filter((r) => !r.startsWith('default-roles-'))
  $('roles').replaceChildren(...roles.sort().map((role) => {
    const li = document.createElement('li')
    li.textContent = role
    li.className = role === 'admin' ? 'role admin' : 'role'
    return li
  }))
  showToken()
}

function showToken () {
  const token = keycloak.tokenParsed
  if (!token) return
  $('token-issued').textContent = time(token.iat)
  $('token-expires').textContent = time(token.exp)
  $('token-refreshes').textContent = String(refreshes)
}

// The countdown: seconds left by the server's clock (the adapter measured the skew).
function tick () {
  const token = keycloak.tokenParsed
  if (!token) return
  const now = Date.now() / 1000 - (keycloak.timeSkew ?? 0)
  const left = Math.max(0, token.exp - now)
  const life = Math.max(1, token.exp - token.iat)
  const minutes = Math.floor(left / 60)
  const seconds = Math.floor(left % 60)
  $('expires-in').textContent = `${minutes}:${String(seconds).padStart(2, '0')}`
  $('expires-in').dataset.low = String(left < 30)
  $('meter-fill').style.width = `${Math.min(100, (left / life) * 100)}%`
}

const BADGES = { LOGIN: 'good', REGISTER: 'good', LOGOUT: 'quiet', LOGIN_ERROR: 'bad', REFRESH_TOKEN_ERROR: 'bad', CODE_TO_TOKEN_ERROR: 'bad' }

function showEvent (event) {
  const li = document.createElement('li')
  li.className = 'event'
  const badge = document.createElement('span')
  badge.className = `badge ${BADGES[event.type] ?? (event.error ? 'bad' : 'info')}`
  badge.textContent = event.type
  // Only some events name the user; the others are named from what earlier ones told.
  if (event.userId && event.details?.username) names.set(event.userId, event.details.username)
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = names.get(event.userId) ?? event.details?.username ?? event.userId?.slice(0, 8) ?? 'anonymous'
  if (event.userId && event.userId === keycloak.subject) {
    const you = document.createElement('span')
    you.className = 'you'
    you.textContent = 'you'
    who.append(' ', you)
  }
  const meta = document.createElement('span')
  meta.className = 'meta'
  meta.textContent = [event.clientId, event.ipAddress, event.error].filter(Boolean).join(' · ')
  const when = document.createElement('time')
  when.textContent = new Date(event.time).toLocaleTimeString()
  li.append(when, badge, who, meta)
  $('feed').prepend(li)
  while ($('feed').children.length > 50) $('feed').lastElementChild.remove()
  $('feed-empty').hidden = true
}

const SOCKET_TEXT = { connecting: 'connecting…', open: 'live', reconnecting: 'reconnecting…', closed: 'closed' }

function openFeed () {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const socket = keycloak.socket(`${scheme}://${location.host}/events`)
  window.feed = socket
  let reauths = 0
  let reconnects = 0
  socket.onstatechange = (event) => {
    const badge = $('socket-state')
    badge.dataset.state = event.state
    badge.textContent = event.state === 'reconnecting'
      ? `reconnecting in ${(event.delay / 1000).toFixed(1)} s`
      : SOCKET_TEXT[event.state]
    if (event.state === 'reconnecting') $('socket-reconnects').textContent = String(++reconnects)
    $('socket-detail').textContent = event.state === 'reconnecting'
      ? `reconnecting (closed ${event.code ?? ''} ${event.reason})`
      : event.state === 'closed' ? `closed (${event.code} ${event.reason})` : event.state
    $('socket-protocol').textContent = socket.protocol || '–'
  }
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data)
    if (data.type === 'reauthenticated') {
      $('socket-reauths').textContent = String(++reauths)
    } else if (data.type === 'welcome') {
      $('feed-scope').textContent = data.admin
        ? 'You are an admin: you see the events of every user of the realm.'
        : 'You see your own events. An admin (bob) sees everyone\'s.'
    } else if (data.type === 'event') {
      showEvent(data.event)
    }
  }
}

keycloak.onAuthRefreshSuccess = () => { refreshes++; showToken(); tick() }
keycloak.onTokenExpired = () => { keycloak.updateToken(30).catch(() => {}) }
keycloak.onAuthLogout = () => { location.reload() }

for (const id of ['login', 'login-hero']) $(id).onclick = () => keycloak.login()
$('logout').onclick = () => keycloak.logout()
$('refresh').onclick = async () => {
  $('refresh').disabled = true
  try {
    await keycloak.updateToken(-1)
  } catch (error) {
    $('error').textContent = `Refresh failed: ${error.message}`
    $('error').hidden = false
  } finally {
    $('refresh').disabled = false
  }
}

try {
  const authenticated = await keycloak.init({
    onLoad: 'check-sso',
    silentCheckSsoRedirectUri: `${location.origin}/silent-check-sso.html`
  })
  fact('realm', keycloak.realm)
  fact('client', keycloak.clientId)
  fact('authorization endpoint', keycloak.endpoints.authorize())
  if (authenticated) {
    names.set(keycloak.subject, keycloak.tokenParsed?.preferred_username)
    setStatus(keycloak.tokenParsed?.preferred_username ?? 'signed in', 'ready')
    $('logout').hidden = false
    $('signed-in').hidden = false
    showUser()
    tick()
    setInterval(tick, 1000)
    openFeed()
  } else {
    setStatus('not signed in', 'anonymous')
    $('login').hidden = false
    $('welcome').hidden = false
    $('welcome-realm').textContent = keycloak.realm
  }
} catch (error) {
  setStatus('error', 'error')
  $('error').textContent = `keycloak-wasm failed: ${error.message}`
  $('error').hidden = false
}
