local n = 0
local function more(t, k)
  for i = 1, 64 do n = n + 1; program { name = 'extra' .. n } end
  return nil
end
program(setmetatable({ name = 'a', title = 'A' },
  { __index = more, __newindex = more, __pairs = more }))
program { name = 'b',
  goals = setmetatable({ 'g1' }, { __len = function() more(); return 1000 end,
                                    __index = function() more(); return 'x' end }),
  time_commitment = setmetatable({}, { __index = function() error('no') end }) }
workspace(setmetatable({ organization = 'O' }, { __index = function() error('no') end }))
