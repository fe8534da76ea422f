// The third-party-cookie check, in a browser profile that blocks third-party cookies (as Safari,
// Firefox's strict mode and Chrome's opt-in do) and in one that allows them: what is detected,
// and what init() does about it (keycloak-js's consequences, plus a warning everyone sees).
import { describe, test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, otherTab, arm, loginRequired, settled, snapshot, call, addFault, clearFaults,
  scenarioAdapters, silentUri, ssoSession, documents, requests, consoleLines, echoUrl, addFrame,
  iframes, windowListeners, recordMessages, waitForMessage, releaseFaults, initPending
} from './setup.mjs'

const world = useWorld()
afterEach(() => clearFaults(world))

const blocked = { thirdPartyCookies: 'blocked' }
const OURS = /^\[KEYCLOAK\] Third-party cookies are blocked/
const KEYCLOAK_JS = /^\[KEYCLOAK\] Your browser is blocking access to 3rd-party cookies/
const isWarning = (line) => line.type === 'warning' && (OURS.test(line.text) || KEYCLOAK_JS.test(line.text))

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('blocked: silent check-sso gives way to the full-page prompt=none redirect (silentCheckSsoFallback)', async () => {
      const first = await ssoSession(world, adapter, blocked)
      const page = await otherTab(first)
      const navigations = documents(page)
      const logins = requests(page, '/openid-connect/auth')
      const lines = consoleLines(page)
      const silent = silentUri(world, adapter)
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silent, enableLogging: true } })
      assert.deepEqual(await settled(page), { ok: true, value: true }, 'the redirect is first-party: the SSO cookie is sent')
      assert.ok(lines.some(isWarning), 'the blocked cookies are reported')
      assert.equal(logins.length, 1)
      const login = new URL(logins[0])
      assert.equal(login.searchParams.get('prompt'), 'none')
      assert.equal(login.searchParams.get('redirect_uri'), world.app.appUrl(adapter, '/'), 'not the silent page')
      assert.ok(navigations.includes(logins[0]), 'the page itself went to the login endpoint')
      const kc = await page.evaluate(() => ({ silent: window.kc.silentCheckSsoRedirectUri, user: window.kc.tokenParsed.preferred_username }))
      assert.equal(kc.user, 'alice')
      assert.equal(kc.silent, undefined, 'silentCheckSsoRedirectUri was unset')
      await first.context().close()
    })

    test('blocked without the fallback: check-sso leaves the user anonymous, on the page', async () => {
      const first = await ssoSession(world, adapter, blocked)
      const page = await otherTab(first)
      const navigations = documents(page)
      const logins = requests(page, '/openid-connect/auth')
      const silent = silentUri(world, adapter)
      await arm(world, page, adapter, {
        initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silent, silentCheckSsoFallback: false }
      })
      assert.deepEqual(await settled(page), { ok: true, value: false }, 'even though there is an SSO session')
      assert.deepEqual(navigations, [world.app.appUrl(adapter, '/blank'), world.app.appUrl(adapter, '/')])
      assert.equal(await page.evaluate(() => window.kc.silentCheckSsoRedirectUri), silent)
      assert.deepEqual(page.errors, [])
      // keycloak-js still tries the silent iframe, which cannot see the session; keycloak-wasm
      // knows it cannot and does not send it.
      if (adapter === 'keycloak-wasm') assert.deepEqual(logins, [])
      await first.context().close()
    })

    test('blocked: no session iframe; updateToken refreshes without asking one', async () => {
      const page = await newPage(world, blocked)
      const sessionPages = requests(page, 'login-status-iframe.html')
      assert.deepEqual(await loginRequired(world, page, adapter, { initOptions: { checkLoginIframeInterval: 1 } }), { ok: true, value: true })
      const before = (await snapshot(page)).token
      assert.deepEqual(await call(page, 'updateToken', -1), { ok: true, value: true })
      assert.notEqual((await snapshot(page)).token, before)
      assert.deepEqual(sessionPages, [])
      await page.context().close()
    })

    test('allowed: the check passes quietly and the session iframe is used', async () => {
      const page = await newPage(world)
      const checks = requests(page, '/3p-cookies/step')
      const sessionPages = requests(page, 'login-status-iframe.html')
      const lines = consoleLines(page)
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', enableLogging: true } })
      assert.deepEqual(await settled(page), { ok: true, value: false })
      assert.equal(checks.length, 2, 'step 1 set the test cookies, step 2 found them')
      assert.equal(sessionPages.filter((url) => url.endsWith('.html')).length, 1)
      assert.ok(!lines.some(isWarning))
      await page.context().close()
    })

    test('look-alike cookie-check answers from other windows are ignored', async () => {
      const page = await newPage(world, blocked)
      const step1 = page.waitForRequest((r) => r.url().includes('/3p-cookies/step1.html'))
      // The real check is held until released: the look-alikes arrive first.
      await addFault(world, { target: '3p-cookies-step1', hang: true })
      const lines = consoleLines(page)
      // The held iframe holds the page's load event too.
      await arm(world, page, adapter, { initOptions: { enableLogging: true }, waitUntil: 'domcontentloaded' })
      await step1
      await recordMessages(page)
      await addFrame(page, echoUrl(world.app.otherOrigin, adapter, ['supported']))
      await addFrame(page, echoUrl(world.app.origin, adapter, ['supported']))
      await waitForMessage(page, { origin: world.app.otherOrigin, data: 'supported' })
      await waitForMessage(page, { origin: world.app.origin, data: 'supported' })
      assert.ok(await initPending(page), 'the look-alikes did not end the check')
      await releaseFaults(world)
      assert.deepEqual(await settled(page), { ok: true, value: false })
      assert.ok(lines.some(isWarning), "the real answer, 'unsupported', decided")
      await page.context().close()
    })

    test('a cookie check that never answers rejects init() with a timeout', async () => {
      const page = await newPage(world)
      await addFault(world, { target: '3p-cookies-step1', hang: true })
      // The hanging iframe holds up the page's load event.
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', messageReceiveTimeout: 1500 }, waitUntil: 'domcontentloaded' })
      const outcome = await settled(page)
      assert.equal(outcome.ok, false)
      assert.equal(outcome.error.message, 'Timeout when waiting for 3rd party check iframe message.')
      if (adapter === 'keycloak-wasm') {
        // keycloak-js leaves its iframe and listener behind.
        assert.equal(outcome.error.code, 'timeout')
        assert.deepEqual(await iframes(page), [])
        assert.equal(await windowListeners(page, 'message'), 0)
      }
      await page.context().close()
    })

    if (adapter === 'keycloak-wasm') {
      test('the warning is shown without enableLogging, and says what happens instead', async () => {
        const page = await newPage(world, blocked)
        const lines = consoleLines(page)
        await arm(world, page, adapter, { initOptions: {} })
        assert.deepEqual(await settled(page), { ok: true, value: false })
        const warnings = lines.filter(isWarning)
        assert.equal(warnings.length, 1)
        assert.match(warnings[0].text, /session iframe is off/)
        assert.deepEqual(await iframes(page), [], 'the check left nothing behind')
        await page.context().close()
      })
    }
  })
}
