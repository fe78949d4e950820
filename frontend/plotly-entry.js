// Plotly with the trace types smarketing/dashboards/figures.py draws: scatter (part of the
// core), bar and funnel. A figure of another type would not draw: add its module here.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/funnel'),
]);

module.exports = Plotly;
