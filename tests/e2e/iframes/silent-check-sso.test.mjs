// Silent check-sso across sites (app on localhost, devserver on 127.0.0.1) in a browser that
// allows third-party cookies: the login runs in a hidden iframe with prompt=none, the page itself
// never navigates, and only the answer of that iframe, on the app's own origin, counts.
import { describe, test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, otherTab, arm, settled, snapshot, eventNames, addFault, clearFaults,
  scenarioAdapters, silentUri, ssoSession, documents, requests, recordMessages, seen, echoUrl,
  addFrame, iframes, windowListeners, storedStates, waitForMessage, releaseFaults, initPending
} from './setup.mjs'

const world = useWorld()
afterEach(() => clearFaults(world))

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('with an SSO session, silent check-sso logs in inside a hidden iframe; the page stays', async () => {
      const first = await ssoSession(world, adapter)
      const page = await otherTab(first)
      const navigations = documents(page)
      const logins = requests(page, '/openid-connect/auth')
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri(world, adapter) } })
      assert.deepEqual(await settled(page), { ok: true, value: true })
      assert.deepEqual(navigations, [world.app.appUrl(adapter, '/blank'), world.app.appUrl(adapter, '/')])
      assert.equal(logins.length, 1)
      assert.equal(new URL(logins[0]).searchParams.get('prompt'), 'none')
      assert.equal(new URL(logins[0]).searchParams.get('redirect_uri'), silentUri(world, adapter))
      const kc = await snapshot(page)
      assert.equal(kc.tokenParsed.preferred_username, 'alice')
      assert.equal(kc.href, world.app.appUrl(adapter, '/'))
      assert.ok(!(await iframes(page)).includes('keycloak-silent-check-sso'), 'the silent iframe is gone')
      assert.deepEqual(await storedStates(page), [], 'its login state was used up')
      assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady'])
      await first.context().close()
    })

    test('without an SSO session it stays anonymous, quietly, on the page', async () => {
      const page = await newPage(world)
      const navigations = documents(page)
      await arm(world, page, adapter, {
        initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri(world, adapter), checkLoginIframe: false }
      })
      assert.deepEqual(await settled(page), { ok: true, value: false })
      assert.deepEqual(navigations, [world.app.appUrl(adapter, '/blank'), world.app.appUrl(adapter, '/')])
      assert.deepEqual(await eventNames(page), ['onReady'], 'login_required is no error')
      assert.deepEqual(page.errors, [])
      assert.deepEqual(await iframes(page), [])
      assert.deepEqual(await storedStates(page), [])
      await page.context().close()
    })

    test('look-alike answers from a frame of another origin and from a same-origin window are ignored', async () => {
      const first = await ssoSession(world, adapter)
      const page = await otherTab(first)
      const login = page.waitForRequest((r) => r.url().includes('/openid-connect/auth') && r.url().includes('prompt=none'))
      // The silent login is held until released: the look-alikes arrive first.
      await addFault(world, { target: 'auth', hang: true })
      const silent = silentUri(world, adapter)
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silent, checkLoginIframe: false } })
      await login
      const [key] = await storedStates(page)
      const forged = `${silent}#error=login_required&state=${key.slice('kc-callback-'.length)}`
      await recordMessages(page)
      await addFrame(page, echoUrl(world.app.otherOrigin, adapter, [forged]))
      await addFrame(page, echoUrl(world.app.origin, adapter, [forged]))
      await waitForMessage(page, { origin: world.app.otherOrigin, data: forged })
      await waitForMessage(page, { origin: world.app.origin, data: forged })
      assert.ok(await initPending(page), 'the look-alikes did not end check-sso')
      await releaseFaults(world)
      assert.deepEqual(await settled(page), { ok: true, value: true }, 'the real answer won')
      const messages = await seen(page)
      const fakes = messages.filter((m) => m.data === forged)
      assert.deepEqual(fakes.map((m) => m.origin), [world.app.otherOrigin, world.app.origin])
      const real = messages.findIndex((m) => m.data?.startsWith(silent) && m.data.includes('code='))
      assert.ok(real > messages.lastIndexOf(fakes[1]), 'the look-alikes came first')
      assert.equal((await snapshot(page)).tokenParsed.preferred_username, 'alice')
      await first.context().close()
    })

    if (adapter === 'keycloak-wasm') {
      test('an answer whose state we did not issue is ignored; ours is used, once', async () => {
        const first = await ssoSession(world, adapter)
        const page = await otherTab(first)
        await arm(world, page, adapter, {
          initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri(world, adapter, 'silent-check-sso-forged.html'), checkLoginIframe: false }
        })
        // keycloak-js takes the first message, whatever its state, and fails on it.
        assert.deepEqual(await settled(page), { ok: true, value: true })
        assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady'])
        assert.deepEqual(await storedStates(page), [])
        assert.deepEqual(page.errors, [])
        await first.context().close()
      })

      test('a silent check-sso that never answers times out and leaves nothing behind', async () => {
        const page = await newPage(world)
        await addFault(world, { target: 'auth', hang: true })
        await arm(world, page, adapter, {
          initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri(world, adapter), checkLoginIframe: false, messageReceiveTimeout: 1500 }
        })
        const outcome = await settled(page)
        assert.equal(outcome.ok, false)
        assert.equal(outcome.error.code, 'timeout')
        assert.equal(outcome.error.message, "Timeout when waiting for the silent check-sso iframe's answer.")
        assert.equal(outcome.error.isError, true)
        assert.deepEqual(await iframes(page), [])
        assert.equal(await windowListeners(page, 'message'), 0)
        assert.deepEqual(await storedStates(page), [], 'a late answer finds no login state')
        await page.context().close()
      })
    }
  })
}
