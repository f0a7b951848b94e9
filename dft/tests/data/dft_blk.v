// Small test block for the DFT tests: registered operands, an enabled multiply-accumulate,
// a synchronous reset and a parity output (about 370 sky130 cells, 32 flops).
module dft_blk(input clk, input rst, input en, input [7:0] a, input [7:0] b,
               output [15:0] acc_o, output par);
  reg [15:0] acc;
  reg [7:0] ra, rb;
  always @(posedge clk) begin
    if (rst) begin
      acc <= 0; ra <= 0; rb <= 0;
    end else begin
      ra <= a; rb <= b;
      if (en) acc <= acc + ra * rb;
    end
  end
  assign acc_o = acc;
  assign par = ^acc;
endmodule
