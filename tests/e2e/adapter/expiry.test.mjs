// onTokenExpired fires at the token's expiry whatever function the application assigned by
// then, also one assigned after init() (keycloak-js arms it only if assigned before).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn } from './setup.mjs'

// Access tokens of 3 s: the expiry timer fires soon after login.
const world = useWorld({ realm: (realm) => { realm.accessTokenLifespan = 3 } })

test('onTokenExpired assigned after init() fires when the token expires', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const fired = await page.evaluate(() => new Promise((resolve) => {
    const kc = window.kc
    // Drop the harness's callback, then assign a new one now that init() is done.
    kc.onTokenExpired = undefined
    kc.onTokenExpired = () => resolve({ expired: kc.isTokenExpired(1), authenticated: kc.authenticated })
  }))
  assert.deepEqual(fired, { expired: true, authenticated: true })
  // A refresh re-arms the timer for the new token.
  const again = await page.evaluate(async () => {
    const kc = window.kc
    await kc.updateToken(-1)
    return new Promise((resolve) => { kc.onTokenExpired = () => resolve(kc.isTokenExpired(1)) })
  })
  assert.equal(again, true)
  await page.context().close()
})
