-- Fixture: a report that uses the matching bindings.
return tandem.report{
  name = "match-demo", version = "1.0.0", api = 1,
  build = function(metrics, q, ctx)
    local r = tandem.match.assign({{1, 2}, {2, 1}}, {maximize = true})
    local s = tandem.match.stable({{1, 2}, {2, 1}}, {{2, 1}, {1, 2}})
    return { title = "match", sections = { { heading = "assign",
      table = { columns = { "total", "first", "stable" },
                rows = { { r.total, r.pairs[1][2], #s.pairs } } } } } }
  end,
}
