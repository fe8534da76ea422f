// The official @keycloak/keycloak-admin-client sets up fixtures against devserver exactly as it
// would against Keycloak: a realm, a client with a role, a realm role, a user with a password and
// both role mappings. The result is checked through the admin API and through a real login.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import KcAdminClient from '@keycloak/keycloak-admin-client'
import { startDevserver } from '../harness.mjs'

let server
before(async () => { server = await startDevserver() })
after(async () => { await server?.stop() })

const decode = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))

async function passwordGrant (realm, clientId, username, password) {
  const response = await fetch(`${server.url}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password, scope: 'openid' })
  })
  return { status: response.status, body: await response.json() }
}

test('admin-client creates a realm, client, roles and a user whose token carries the roles', async () => {
  const admin = new KcAdminClient({ baseUrl: server.url, realmName: 'master' })
  await admin.auth({ username: 'admin', password: 'admin', grantType: 'password', clientId: 'admin-cli' })

  const created = await admin.realms.create({ realm: 'fixture', enabled: true, accessTokenLifespan: 90 })
  assert.deepEqual(created, { realmName: 'fixture' })
  admin.setConfig({ realmName: 'fixture' })

  const { id: clientUuid } = await admin.clients.create({
    clientId: 'spa',
    publicClient: true,
    directAccessGrantsEnabled: true,
    redirectUris: ['http://localhost:5173/*'],
    webOrigins: ['+']
  })
  assert.match(clientUuid, /^[0-9a-f-]{36}$/)
  await admin.roles.create({ name: 'reader', description: 'may read' })
  await admin.clients.createRole({ id: clientUuid, name: 'writer' })

  const { id: userId } = await admin.users.create({
    username: 'gina', enabled: true, email: 'gina@example.com', firstName: 'Gina', lastName: 'G'
  })
  await admin.users.resetPassword({ id: userId, credential: { type: 'password', value: 'gina-pw', temporary: false } })
  const reader = await admin.roles.findOneByName({ name: 'reader' })
  assert.equal(reader.description, 'may read')
  await admin.users.addRealmRoleMappings({ id: userId, roles: [{ id: reader.id, name: reader.name }] })
  const writer = await admin.clients.findRole({ id: clientUuid, roleName: 'writer' })
  await admin.users.addClientRoleMappings({ id: userId, clientUniqueId: clientUuid, roles: [{ id: writer.id, name: writer.name }] })

  const [user] = await admin.users.find({ username: 'gina', exact: true })
  assert.equal(user.id, userId)
  assert.equal(user.email, 'gina@example.com')
  assert.deepEqual((await admin.users.listRealmRoleMappings({ id: userId })).map((r) => r.name).sort(),
    ['default-roles-fixture', 'reader'], 'a new user holds the default roles, as with Keycloak')
  assert.deepEqual((await admin.users.listClientRoleMappings({ id: userId, clientUniqueId: clientUuid })).map((r) => r.name), ['writer'])
  assert.equal(await admin.users.count(), 1)
  assert.equal(await admin.roles.findOneByName({ name: 'nope' }), null, 'a missing role is null, as with Keycloak')

  const { status, body } = await passwordGrant('fixture', 'spa', 'gina', 'gina-pw')
  assert.equal(status, 200)
  assert.equal(body.expires_in, 90)
  const claims = decode(body.access_token)
  assert.ok(claims.realm_access.roles.includes('reader'))
  assert.deepEqual(claims.resource_access.spa.roles, ['writer'])
  assert.equal(claims.preferred_username, 'gina')

  // A full-representation update (what admin UIs send) round-trips.
  const [client] = await admin.clients.find({ clientId: 'spa' })
  await admin.clients.update({ id: clientUuid }, { ...client, directAccessGrantsEnabled: false })
  assert.equal((await admin.clients.findOne({ id: clientUuid })).directAccessGrantsEnabled, false)
  assert.equal((await passwordGrant('fixture', 'spa', 'gina', 'gina-pw')).status, 400)

  const events = await admin.realms.findEvents({ realm: 'fixture' })
  assert.deepEqual(events.map((e) => e.type), ['LOGIN_ERROR', 'LOGIN'])
  assert.equal(events[1].userId, userId)

  await admin.realms.del({ realm: 'fixture' })
  admin.setConfig({ realmName: 'master' })
  assert.equal(await admin.realms.findOne({ realm: 'fixture' }), null)
})

test('admin-client errors carry Keycloak-style messages', async () => {
  const admin = new KcAdminClient({ baseUrl: server.url, realmName: 'master' })
  await assert.rejects(
    admin.auth({ username: 'admin', password: 'wrong', grantType: 'password', clientId: 'admin-cli' }),
    (error) => error.responseData?.error === 'invalid_grant'
  )
  await admin.auth({ username: 'admin', password: 'admin', grantType: 'password', clientId: 'admin-cli' })
  await admin.realms.create({ realm: 'dup' })
  await assert.rejects(admin.realms.create({ realm: 'dup' }), (error) => error.response.status === 409)
  admin.setConfig({ realmName: 'dup' })
  await admin.users.create({ username: 'x' })
  await assert.rejects(admin.users.create({ username: 'x' }), { message: 'User exists with same username' })
})
