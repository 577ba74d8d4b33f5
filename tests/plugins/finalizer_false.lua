-- Fixture: tries to pre-register a finalizer with __gc = false.
return tandem.policy{
  name = "finalizer_false", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local mt = {__gc = false} setmetatable({}, mt) mt.__gc = function() end return 1
  end,
}
