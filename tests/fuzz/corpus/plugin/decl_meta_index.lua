-- Fixture: the declaration's metatable supplies a required field and raises on
-- every other missing one. Declarations are read raw (a plain copy), so neither
-- runs: the field is missing, reported at the constructor's line.
local mt = {
  __index = function(t, k)
    if k == "version" then return "1.0.0" end
    error("no field " .. tostring(k))
  end,
}
return tandem.policy(setmetatable({ name = "decl_meta_index", api = 1,
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f) return 1 end }, mt))
