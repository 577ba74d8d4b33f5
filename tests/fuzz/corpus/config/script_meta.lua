local t = setmetatable({}, { __index = function(_, k)
  program { name = k }; return 1 end })
local _ = t.p1, t.p2
program { name = 'p3', policy = "reciprocal", cadence = "biweekly" }
