#!/usr/bin/env node
console.log('tollgate: not yet implemented');
