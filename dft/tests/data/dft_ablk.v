// Variant with an asynchronous active-low reset (sky130 dfrtp flops): the reset must be held
// inactive during ATPG instead of being a test input.
module dft_ablk(input clk, input rst_n, input [3:0] x, output reg [3:0] q, output y);
  always @(posedge clk or negedge rst_n)
    if (!rst_n) q <= 0; else q <= q ^ x ^ {q[2:0], q[3]};
  assign y = &q | x[0];
endmodule
