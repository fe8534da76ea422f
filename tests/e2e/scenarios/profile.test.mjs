// The user's data and pages: loadUserInfo, loadUserProfile (the account endpoint, cross-site with
// CORS), registration through register(), and the account page through accountManagement().
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  scenarioAdapters, useWorld, newPage, arm, loginRequired, settled, snapshot, call, realmEvents
} from './setup.mjs'

const world = useWorld()

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('loadUserInfo and loadUserProfile read the signed-in user across sites', async () => {
      const page = await newPage(world)
      await loginRequired(world, page, adapter, { username: 'bob' })
      const { subject } = await snapshot(page)

      const info = await call(page, 'loadUserInfo')
      assert.equal(info.ok, true)
      assert.equal(info.value.sub, subject)
      assert.equal(info.value.preferred_username, 'bob')
      assert.equal(info.value.email, 'bob@example.com')
      assert.equal(info.value.name, 'Bob Builder')
      assert.deepEqual(await page.evaluate(() => window.kc.userInfo.preferred_username), 'bob')

      const profile = await call(page, 'loadUserProfile')
      assert.equal(profile.ok, true)
      assert.equal(profile.value.id, subject)
      assert.equal(profile.value.username, 'bob')
      assert.equal(profile.value.firstName, 'Bob')
      assert.equal(profile.value.lastName, 'Builder')
      assert.equal(profile.value.email, 'bob@example.com')
      assert.equal(profile.value.emailVerified, true)
      assert.equal(await page.evaluate(() => window.kc.profile.username), 'bob')
      await page.context().close()
    })

    test('register() opens the sign-up form and the new user comes back signed in', async () => {
      const page = await newPage(world)
      await arm(world, page, adapter, { initOptions: {} })
      assert.deepEqual(await settled(page), { ok: true, value: false })
      const registerUrl = await page.evaluate(() => window.kc.createRegisterUrl())
      assert.ok(registerUrl.startsWith(`${world.server.url}/realms/demo/protocol/openid-connect/registrations?`), registerUrl)
      // After the round trip the page must process the callback: arm it with no onLoad.
      await page.evaluate(() => { window.kc.register() })
      await page.waitForSelector('#kc-register')
      const username = `new-${adapter}`
      await page.fill('#firstName', 'New')
      await page.fill('#lastName', 'User')
      await page.fill('#email', `${username}@example.com`)
      await page.fill('#username', username)
      await page.fill('#password', 'pw-123')
      await page.fill('#password-confirm', 'pw-123')
      await page.click('#kc-register')
      await page.waitForURL((url) => url.href.startsWith(world.app.origin + '/app/'))
      assert.deepEqual(await settled(page), { ok: true, value: true })
      const kc = await snapshot(page)
      assert.equal(kc.tokenParsed.preferred_username, username)
      assert.equal(kc.tokenParsed.email, `${username}@example.com`)
      const kinds = (await realmEvents(world)).slice(0, 3).map((e) => e.type)
      assert.deepEqual(kinds, ['CODE_TO_TOKEN', 'LOGIN', 'REGISTER'])
      await page.context().close()
    })

    test('accountManagement() opens the account page with a way back', async () => {
      const page = await newPage(world)
      await loginRequired(world, page, adapter)
      const back = world.app.appUrl(adapter, '/after-account')
      const accountUrl = await page.evaluate((redirectUri) => window.kc.createAccountUrl({ redirectUri }), back)
      const url = new URL(accountUrl)
      assert.equal(url.origin + url.pathname, `${world.server.url}/realms/demo/account`)
      assert.equal(url.searchParams.get('referrer'), 'demo-app')
      assert.equal(url.searchParams.get('referrer_uri'), back)
      // accountManagement() takes no options: the way back is the current page.
      await page.evaluate(() => { window.kc.accountManagement() })
      await page.waitForURL((u) => u.href.startsWith(`${world.server.url}/realms/demo/account`))
      assert.equal(await page.textContent('#username'), 'alice', 'the SSO cookie identifies the user')
      assert.equal(await page.getAttribute('#referrer', 'href'), world.app.appUrl(adapter, '/'))
      await page.context().close()
    })
  })
}
