-- Fixture: __pairs, __len and __index that never return, on the declaration, on
-- its nested tables and on what the score hook returns. The host reads all of
-- them raw, so none runs; the hook's table is refused as not a number.
local evil = {
  __pairs = function() while true do end end,
  __len = function() while true do end end,
  __index = function() while true do end end,
  __eq = function() while true do end end,
  __lt = function() while true do end end,
  __tostring = function() while true do end end,
}
return tandem.policy(setmetatable({ name = "decl_meta_pairs", version = "1.0.0", api = 1,
  weights = setmetatable({ topic_fit = 1 }, evil),
  forbid = setmetatable({ "reporting_chain" }, evil),
  score = function(mentor, mentee, f)
    return setmetatable({ 1 }, evil)
  end }, evil))
