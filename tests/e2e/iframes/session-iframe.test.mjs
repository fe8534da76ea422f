// The session (login-status) iframe across sites, with third-party cookies allowed: a logout
// elsewhere is noticed at the next check, updateToken asks first, look-alike answers are ignored,
// and (keycloak-wasm) a page that never answers ends in a timeout with nothing left behind, the
// periodic check rests while the page is hidden, stops with the tokens, and never rejects
// unhandled.
import { describe, test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, otherTab, arm, settled, snapshot, eventNames, waitForEvent, call, addFault, clearFaults,
  scenarioAdapters, ssoSession, joinedTab, logoutElsewhere, requests, consoleLines, recordMessages,
  seen, waitForMessage, echoUrl, releaseFaults, initPending, addFrame, iframes, windowListeners, setHidden, submitLogin
} from './setup.mjs'

const world = useWorld()
afterEach(() => clearFaults(world))

const server = () => new URL(world.server.url).origin
/** The session iframe's answers the page received since recording began. */
const answers = async (page) => (await seen(page)).filter((m) => m.origin === server()).map((m) => m.data)

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('a logout in another tab is noticed by the first check after it', async () => {
      const first = await ssoSession(world, adapter)
      const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 1 })
      await recordMessages(page)
      await waitForMessage(page, { origin: server(), data: 'unchanged' })
      const before = (await answers(page)).length
      await logoutElsewhere(world, page, adapter)
      const loggedOut = (await answers(page)).length
      await waitForEvent(page, 'onAuthLogout')
      // Checks while the other tab logged out, and one under way when it was done, may still
      // have seen the session; the first one after it must not, and then the checks stop (the
      // change may have been seen before the other tab was back).
      const all = await answers(page)
      assert.match(all.slice(before).join(), /^(unchanged,)*changed$/)
      assert.ok(['', 'changed', 'unchanged,changed'].includes(all.slice(loggedOut).join()), all.slice(loggedOut).join())
      const kc = await snapshot(page)
      assert.equal(kc.authenticated, false)
      assert.equal(kc.token, undefined)
      assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady', 'onAuthLogout'])
      if (adapter === 'keycloak-wasm') {
        assert.deepEqual(await iframes(page), [], 'the check stopped and its iframe is gone')
        assert.equal(await windowListeners(page, 'visibilitychange'), 0)
      }
      await first.context().close()
    })

    test('look-alike session answers from a frame of another origin and a same-origin window are ignored', async () => {
      const first = await ssoSession(world, adapter)
      const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 1 })
      await recordMessages(page)
      await addFrame(page, echoUrl(world.app.otherOrigin, adapter, ['changed', 'error']))
      await addFrame(page, echoUrl(world.app.origin, adapter, ['changed', 'error']))
      const messages = await seen(page)
      assert.deepEqual(messages.filter((m) => m.origin !== server()).map((m) => m.origin),
        [world.app.otherOrigin, world.app.otherOrigin, world.app.origin, world.app.origin])
      // A real answer after the look-alikes: the session iframe is still being asked.
      await page.waitForFunction(([n, o]) => window.seen.slice(n).some((m) => m.origin === o && m.data === 'unchanged'), [messages.length, server()])
      assert.equal((await snapshot(page)).authenticated, true)
      assert.ok(!(await eventNames(page)).includes('onAuthLogout'))
      await first.context().close()
    })

    test("an answer from another window on the server's origin is ignored", async () => {
      const first = await ssoSession(world, adapter)
      const { sessionId } = await snapshot(first)
      const page = await otherTab(first)
      // The adapter's session iframe is asked, and its answer held back until released.
      const asked = page.waitForRequest((r) => r.url().includes('/login-status-iframe.html/init'))
      await addFault(world, { target: 'login-status-iframe-init', hang: true })
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso' } })
      await asked
      await recordMessages(page)
      // Meanwhile another frame of the same server page, asked about the real session, answers
      // 'unchanged' to this window, from the right origin.
      const statusPage = `${world.server.url}/realms/demo/protocol/openid-connect/login-status-iframe.html`
      await page.evaluate(([src, question, origin]) => new Promise((resolve) => {
        const frame = document.createElement('iframe')
        frame.onload = () => { frame.contentWindow.postMessage(question, origin); resolve() }
        frame.src = src
        document.body.append(frame)
      }), [statusPage, `demo-app ${sessionId}`, server()])
      await waitForMessage(page, { origin: server(), data: 'unchanged' })
      assert.ok(await initPending(page), 'init() still waits for its own iframe')
      // Taken for the adapter's answer, it would have ended check-sso anonymous; the adapter's
      // own iframe says 'changed' (a session, not yet ours), so check-sso logs in.
      await releaseFaults(world)
      assert.deepEqual(await settled(page), { ok: true, value: true })
      await first.context().close()
    })

    test('updateToken asks the session iframe first', async () => {
      const first = await ssoSession(world, adapter)
      const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 3600 })
      await logoutElsewhere(world, page, adapter)
      const outcome = await call(page, 'updateToken', 5)
      assert.equal(outcome.ok, false)
      assert.ok((await eventNames(page)).includes('onAuthLogout'))
      assert.equal((await snapshot(page)).token, undefined)
      await first.context().close()
    })

    test('tokens given to init() are checked with the session iframe, not with a refresh', async () => {
      const first = await ssoSession(world, adapter)
      const { token, refreshToken, idToken } = await snapshot(first)
      const page = await otherTab(first)
      const refreshes = requests(page, '/openid-connect/token')
      await arm(world, page, adapter, { initOptions: { token, refreshToken, idToken } })
      assert.deepEqual(await settled(page), { ok: true, value: true })
      assert.deepEqual(refreshes, [])
      assert.equal((await snapshot(page)).token, token)
      assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady'])

      await logoutElsewhere(world, page, adapter)
      const next = await otherTab(first)
      await arm(world, next, adapter, { initOptions: { token, refreshToken, idToken } })
      assert.deepEqual(await settled(next), { ok: true, value: false }, 'the session is over')
      assert.deepEqual(await eventNames(next), ['onAuthLogout', 'onReady'])
      await first.context().close()
    })

    test("an 'error' answer rejects init()", async () => {
      const page = await newPage(world)
      await addFault(world, { target: 'login-status-iframe-init', status: 500 })
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso' } })
      const outcome = await settled(page)
      assert.equal(outcome.ok, false)
      assert.equal(outcome.error.message, 'Error while checking login iframe')
      await page.context().close()
    })

    if (adapter === 'keycloak-wasm') {
      for (const [target, what] of [['login-status-iframe', 'the session iframe to load.'], ['login-status-iframe-init', "the session iframe's answer."]]) {
        test(`a session page that never answers (${target} hangs): a timeout, and no iframe left`, async () => {
          const page = await newPage(world)
          await addFault(world, { target, hang: true, forever: true })
          await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', messageReceiveTimeout: 1500 }, waitUntil: 'domcontentloaded' })
          const outcome = await settled(page)
          assert.equal(outcome.ok, false)
          assert.equal(outcome.error.code, 'timeout')
          assert.equal(outcome.error.name, 'NetworkError')
          assert.equal(outcome.error.message, `Timeout when waiting for ${what}`)
          assert.deepEqual(await iframes(page), [])
          assert.equal(await windowListeners(page, 'message'), 0)
          await page.context().close()
        })
      }

      test('while the page is hidden the periodic check rests; a logout is noticed once it is visible', async () => {
        const first = await ssoSession(world, adapter)
        const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 1, enableLogging: true })
        const lines = consoleLines(page)
        const skipped = () => lines.filter((l) => l.text === '[KEYCLOAK] Session check skipped: the page is hidden').length
        const nextSkip = async () => {
          const n = skipped()
          await page.waitForEvent('console', { predicate: () => skipped() > n })
        }
        await recordMessages(page)
        await setHidden(page, true)
        await nextSkip()
        const quiet = (await answers(page)).length
        await logoutElsewhere(world, page, adapter)
        await nextSkip()
        await nextSkip()
        assert.equal((await answers(page)).length, quiet, 'no session check while hidden')
        assert.equal((await snapshot(page)).authenticated, true, 'not noticed yet')
        await setHidden(page, false)
        await waitForEvent(page, 'onAuthLogout')
        assert.deepEqual((await answers(page)).slice(quiet), ['changed'])
        await first.context().close()
      })

      test('becoming visible checks at once, without waiting for the interval', async () => {
        const first = await ssoSession(world, adapter)
        const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 3600 })
        await setHidden(page, true)
        await logoutElsewhere(world, page, adapter)
        await setHidden(page, false)
        // Within the 20 s of waitForEvent, far less than the hour of the interval.
        await waitForEvent(page, 'onAuthLogout')
        assert.equal((await snapshot(page)).authenticated, false)
        await first.context().close()
      })

      test('an OpenID provider without check_session_iframe: no session iframe, and check-sso goes on', async () => {
        const discovery = await (await fetch(`${world.server.url}/realms/demo/.well-known/openid-configuration`)).json()
        const { check_session_iframe: _, ...metadata } = discovery
        const config = { clientId: 'demo-app', oidcProvider: metadata }
        const first = await ssoSession(world, adapter)
        const page = await otherTab(first)
        const sessionPages = requests(page, 'login-status-iframe.html')
        // keycloak-js rejects: "Not supported by the OIDC server".
        await arm(world, page, adapter, { config, initOptions: { onLoad: 'check-sso', checkLoginIframeInterval: 1 } })
        assert.deepEqual(await settled(page), { ok: true, value: true }, 'through the prompt=none redirect')
        assert.deepEqual(await call(page, 'updateToken', -1), { ok: true, value: true })
        assert.deepEqual(sessionPages, [])
        assert.deepEqual(await iframes(page), [])
        await first.context().close()
      })

      test('clearToken stops the periodic check and removes the session iframe', async () => {
        const first = await ssoSession(world, adapter)
        const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 1 })
        // Set up by the first periodic check.
        await page.waitForSelector('iframe[title=keycloak-session-iframe]', { state: 'attached' })
        assert.deepEqual(await iframes(page), ['keycloak-session-iframe'])
        assert.equal(await windowListeners(page, 'visibilitychange'), 1)
        await page.evaluate(() => window.kc.clearToken())
        assert.deepEqual(await iframes(page), [])
        assert.equal(await windowListeners(page, 'visibilitychange'), 0)
        assert.equal(await windowListeners(page, 'message'), 0)
        await first.context().close()
      })

      test('clearToken removes a session iframe that is still loading', async () => {
        const first = await ssoSession(world, adapter)
        const page = await joinedTab(world, first, adapter, { checkLoginIframeInterval: 1 })
        assert.deepEqual(await iframes(page), [], 'the first periodic check sets the iframe up')
        await addFault(world, { target: 'login-status-iframe', hang: true, forever: true })
        await page.waitForSelector('iframe[title=keycloak-session-iframe]', { state: 'attached' })
        await page.evaluate(() => window.kc.clearToken())
        assert.deepEqual(await iframes(page), [])
        await first.context().close()
      })

      test("an 'error' answer in the periodic check clears the tokens without an unhandled rejection", async () => {
        const page = await newPage(world)
        const sessionPages = requests(page, 'login-status-iframe.html/init')
        await arm(world, page, adapter, { initOptions: { checkLoginIframeInterval: 1 } })
        assert.deepEqual(await settled(page), { ok: true, value: false })
        await addFault(world, { target: 'login-status-iframe-init', status: 500 })
        await page.evaluate(() => { window.kc.login() })
        await submitLogin(page)
        await page.waitForURL((url) => url.href.startsWith(world.app.origin + '/app/'))
        assert.deepEqual(await settled(page), { ok: true, value: true })
        await waitForEvent(page, 'onAuthLogout')
        assert.equal(sessionPages.length, 1)
        assert.equal((await snapshot(page)).authenticated, false)
        assert.deepEqual(page.errors, [])
        await page.context().close()
      })
    }
  })
}
