# gqmv_l1_g2: 20 MHz (50 ns, see config.yaml); I/O budgeted at 20% of the period, synchronous active-high reset.
create_clock -name clk -period 50.0 [get_ports clk]
set_input_delay 10.0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 10.0 -clock clk [all_outputs]
set_load 0.01 [all_outputs]
set_driving_cell -lib_cell sky130_fd_sc_hd__buf_2 [delete_from_list [all_inputs] [get_ports clk]]
