# Probe MAC: 30 ns clock (config.yaml says why: the ss corner, 1.40 V at -40 C, with coupling
# in the routed SPEF); inputs/outputs budgeted at 20% of the period.
create_clock -name clk -period 30.0 [get_ports clk]
set_input_delay 6.0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 6.0 -clock clk [all_outputs]
set_load 0.01 [all_outputs]
set_driving_cell -lib_cell sky130_fd_sc_hd__buf_2 [delete_from_list [all_inputs] [get_ports clk]]
