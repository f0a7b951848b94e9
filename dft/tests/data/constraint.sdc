create_clock -name clk -period 20 [get_ports clk]
