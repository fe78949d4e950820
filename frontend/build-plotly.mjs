// Builds ../static/vendor/plotly-smarketing.min.js from the pinned plotly.js package
// (package-lock.json), with the options of plotly.js's own esbuild-config.js, minified.
//     cd frontend && npm ci && npm run build
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
// The only stylesheet plotly.js imports is maplibre's, for map traces, which this bundle
// leaves out: the import resolves to nothing instead of a stylesheet beside the bundle.
const noStylesheets = {
    name: 'no-stylesheets',
    setup(builder) {
        builder.onResolve({ filter: /\.css$/ }, (args) => ({ path: args.path, namespace: 'no-stylesheets' }));
        builder.onLoad({ filter: /.*/, namespace: 'no-stylesheets' }, () => ({ contents: '', loader: 'js' }));
    },
};

const version = JSON.parse(readFileSync(join(here, 'node_modules/plotly.js/package.json'), 'utf8')).version;

await build({
    entryPoints: [join(here, 'plotly-entry.js')],
    outfile: join(here, '..', 'static', 'vendor', 'plotly-smarketing.min.js'),
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: { js: `/* plotly.js v${version} (MIT, Copyright 2012-2026 Plotly, Inc.): core, bar and funnel traces; built by frontend/build-plotly.mjs */` },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    plugins: [noStylesheets],
    logLevel: 'info',
});
