// Debian's Chromium, never a downloaded browser. WebGPU needs --enable-unsafe-webgpu on Linux (headless it runs
// on SwiftShader); the other flags keep Chromium quiet on an offline machine, as root.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
