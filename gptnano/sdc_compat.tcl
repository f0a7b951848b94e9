# Sourced before every user SDC (signoff/sta.py load_script). Keeps users' SDCs, written for
# current OpenSTA, working unmodified on the OpenSTA the machine has.
# OpenSTA 2.0.17 (Debian 12) has `all_inputs` without options; current OpenSTA (and ORFS's SDCs)
# use `all_inputs -no_clocks`: the input ports that are not the source of a clock.
if {[info commands ::gptnano_all_inputs] eq ""} {
  rename ::all_inputs ::gptnano_all_inputs
  proc ::all_inputs {args} {
    set no_clocks 0
    foreach a $args {
      if {$a eq "-no_clocks"} { set no_clocks 1 } else { error "all_inputs: unknown option $a" }
    }
    set ports [::gptnano_all_inputs]
    if {!$no_clocks} { return $ports }
    set clock_sources {}
    foreach clk [all_clocks] {
      foreach pin [get_property $clk sources] { lappend clock_sources [get_full_name $pin] }
    }
    set keep {}
    foreach port $ports {
      if {[lsearch -exact $clock_sources [get_full_name $port]] < 0} { lappend keep $port }
    }
    return $keep
  }
}
