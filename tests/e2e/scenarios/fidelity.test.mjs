// Set-ups written against Keycloak, pointed at devserver: an @keycloak/keycloak-admin-client
// fixture that gives a user roles of Keycloak's built-in clients and then logs in, and the
// authorization endpoint's refusal of the query response mode for the implicit and hybrid flows.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import KcAdminClient from '@keycloak/keycloak-admin-client'
import { scenarioAdapters, useWorld, newPage, arm, loginRequired, settled, snapshot, eventNames } from './setup.mjs'

const world = useWorld()
const sorted = (list) => [...list].sort()

/**
 * Exactly what a Keycloak test set-up does: a realm, a public client and a user with roles. Run
 * once, by the first test that needs it (devserver starts in useWorld's hook).
 */
let fixture
const setUpFixture = () => { fixture ??= createFixture(); return fixture }
async function createFixture () {
  const admin = new KcAdminClient({ baseUrl: world.server.url, realmName: 'master' })
  await admin.auth({ username: 'admin', password: 'admin', grantType: 'password', clientId: 'admin-cli' })
  await admin.realms.create({ realm: 'fixture', enabled: true })
  admin.setConfig({ realmName: 'fixture' })
  await admin.clients.create({
    clientId: 'spa', publicClient: true, redirectUris: [`${world.app.origin}/*`], webOrigins: [world.app.origin]
  })
  const { id: userId } = await admin.users.create({
    username: 'gina',
    enabled: true,
    email: 'gina@example.com',
    firstName: 'Gina',
    lastName: 'G',
    credentials: [{ type: 'password', value: 'gina', temporary: false }],
    // Keycloak accepts role lists here and maps none of them; set-ups map roles below.
    clientRoles: { 'realm-management': ['view-users', 'manage-users'], account: ['view-groups'] }
  })
  const [management] = await admin.clients.find({ clientId: 'realm-management' })
  const [account] = await admin.clients.find({ clientId: 'account' })
  const mappedAtCreation = await admin.users.listClientRoleMappings({ id: userId, clientUniqueId: management.id })
  const managementRoles = await admin.clients.listRoles({ id: management.id })
  const pick = (names) => managementRoles.filter((r) => names.includes(r.name)).map(({ id, name }) => ({ id, name }))
  await admin.users.addClientRoleMappings({
    id: userId, clientUniqueId: management.id, roles: pick(['view-users', 'manage-users'])
  })
  const viewGroups = await admin.clients.findRole({ id: account.id, roleName: 'view-groups' })
  await admin.users.addClientRoleMappings({
    id: userId, clientUniqueId: account.id, roles: [{ id: viewGroups.id, name: viewGroups.name }]
  })
  return { admin, userId, management, account, managementRoles, mappedAtCreation }
}

test('admin-client finds the built-in clients, their roles and the default roles', async () => {
  const { admin, userId, management, account, managementRoles, mappedAtCreation } = await setUpFixture()
  assert.equal(management.bearerOnly, true)
  for (const role of ['view-realm', 'view-users', 'manage-users', 'manage-clients', 'query-users', 'realm-admin']) {
    assert.ok(managementRoles.some((r) => r.name === role), `realm-management has ${role}`)
  }
  const accountRoles = (await admin.clients.listRoles({ id: account.id })).map((r) => r.name)
  for (const role of ['view-profile', 'manage-account', 'manage-account-links', 'view-groups']) {
    assert.ok(accountRoles.includes(role), `account has ${role}`)
  }
  for (const clientId of ['account-console', 'admin-cli', 'broker', 'security-admin-console']) {
    assert.equal((await admin.clients.find({ clientId })).length, 1, clientId)
  }
  assert.deepEqual(sorted((await admin.roles.find()).map((r) => r.name)),
    ['default-roles-fixture', 'offline_access', 'uma_authorization'])
  assert.equal((await admin.roles.findOneByName({ name: 'default-roles-fixture' })).composite, true)
  assert.deepEqual((await admin.users.listRealmRoleMappings({ id: userId })).map((r) => r.name),
    ['default-roles-fixture'], 'a new user holds the default roles')
  assert.deepEqual(mappedAtCreation, [], 'role lists in a created user are not mapped, as with Keycloak')
  assert.deepEqual(sorted((await admin.users.listClientRoleMappings({ id: userId, clientUniqueId: management.id })).map((r) => r.name)),
    ['manage-users', 'view-users'])
  assert.deepEqual(sorted((await admin.users.listCompositeClientRoleMappings({ id: userId, clientUniqueId: management.id })).map((r) => r.name)),
    ['manage-users', 'query-groups', 'query-users', 'view-users'], 'view-users brings query-users and query-groups')
})

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('the fixture user logs in and resource_access shows the built-in clients\' roles', async () => {
      await setUpFixture()
      const page = await newPage(world)
      const config = { url: world.server.url, realm: 'fixture', clientId: 'spa' }
      const outcome = await loginRequired(world, page, adapter, { config, username: 'gina' })
      assert.deepEqual(outcome, { ok: true, value: true })
      const kc = await snapshot(page)
      const access = kc.tokenParsed.resource_access
      assert.deepEqual(sorted(access['realm-management'].roles), ['manage-users', 'query-groups', 'query-users', 'view-users'])
      assert.deepEqual(sorted(access.account.roles), ['manage-account', 'manage-account-links', 'view-groups', 'view-profile'])
      assert.deepEqual(sorted(kc.realmAccess.roles), ['default-roles-fixture', 'offline_access', 'uma_authorization'])
      const checks = await page.evaluate(() => [
        window.kc.hasResourceRole('view-users', 'realm-management'),
        window.kc.hasResourceRole('manage-account', 'account'),
        window.kc.hasResourceRole('realm-admin', 'realm-management'),
        Object.keys(window.kc.resourceAccess).sort()
      ])
      assert.deepEqual(checks, [true, true, false, ['account', 'realm-management']])
      await page.context().close()
    })

    for (const flow of ['implicit', 'hybrid']) {
      test(`the ${flow} flow with responseMode 'query' is refused with Keycloak's error`, { timeout: 60000 }, async () => {
        const page = await newPage(world)
        await arm(world, page, adapter, { initOptions: { onLoad: 'login-required', flow, responseMode: 'query' } })
        const outcome = await settled(page)
        assert.equal(outcome.ok, false, JSON.stringify(outcome))
        assert.equal(outcome.error.error, 'invalid_request')
        assert.equal(outcome.error.error_description, "Response_mode 'query' not allowed for implicit or hybrid flow")
        assert.deepEqual(await eventNames(page), ['onAuthError'])
        assert.equal((await snapshot(page)).authenticated, false)
        await page.context().close()
      })
    }
  })
}
