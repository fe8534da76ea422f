import Keycloak from 'keycloak-wasm'

const status = document.getElementById('status')
const facts = document.getElementById('facts')

function fact (name, value) {
  const dt = document.createElement('dt')
  dt.textContent = name
  const dd = document.createElement('dd')
  dd.textContent = value
  facts.append(dt, dd)
}

// The devserver serving this page is also the Keycloak stand-in, with the demo realm imported.
const keycloak = new Keycloak({ url: location.origin, realm: 'demo', clientId: 'demo-app' })
window.keycloak = keycloak

try {
  const authenticated = await keycloak.init({ checkLoginIframe: false })
  status.textContent = 'keycloak-wasm loaded'
  status.dataset.state = 'ready'
  fact('realm', keycloak.realm)
  fact('client', keycloak.clientId)
  fact('authorization endpoint', keycloak.endpoints.authorize())
  fact('authenticated', String(authenticated))
} catch (error) {
  status.textContent = `keycloak-wasm failed to load: ${error.message}`
  status.dataset.state = 'error'
}
