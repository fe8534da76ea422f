// The demo app that `npm start` serves loads the library from pkg/ through devserver.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDevserver, launchBrowser } from './harness.mjs'

test('the demo page loads keycloak-wasm and shows the realm it talks to', async () => {
  const server = await startDevserver({ args: ['--www', 'www', '--pkg', 'pkg'] })
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    const errors = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${server.url}/`)
    await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]')
    assert.equal(await page.textContent('#status'), 'keycloak-wasm loaded')
    assert.match(await page.textContent('#facts'), /\/realms\/demo\/protocol\/openid-connect\/auth/)
    assert.deepEqual(errors, [])
  } finally {
    await browser.close()
    await server.stop()
  }
})
