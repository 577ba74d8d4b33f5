-- Fixture: unbounded recursion through C (string.gsub replacement function).
return tandem.policy{
  name = "recurse_gsub", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local function r(s) return (string.gsub(s, ".", r)) end return r("abc")
  end,
}
