for i = 1, 3 do program { name = 'p' .. i, description = string.rep('d', i) } end
error({})
