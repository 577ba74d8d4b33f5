program { name = 'x',
 starts = '2027-02-30' }
