program { name = 'x' }
program { name = 'x' }
