-- Fixture: tries to load a binary chunk.
return tandem.policy{
  name = "bytecode", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local f, err = load(string.char(27) .. "LuaT\0") assert(f, err) return f()
  end,
}
