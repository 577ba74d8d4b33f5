-- Fixture: tries the io library.
return tandem.policy{
  name = "io_open", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local f = io.open("/etc/passwd") return f:read("a")
  end,
}
