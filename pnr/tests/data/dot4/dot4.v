// Benchmark for synthesis script choices: a registered 4-lane signed int8 dot product
// (4 multipliers + adder tree + accumulator), the shape of one accelerator lane group.
module dot4 (
    input  wire              clk,
    input  wire              rst_n,
    input  wire [31:0]       a,
    input  wire [31:0]       b,
    output reg signed [23:0] acc
);
    reg [31:0] a_q, b_q;
    integer i;
    reg signed [17:0] sum;
    always @(*) begin
        sum = 18'sd0;
        for (i = 0; i < 4; i = i + 1)
            sum = sum + $signed(a_q[8*i +: 8]) * $signed(b_q[8*i +: 8]);
    end
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            a_q <= 32'd0;
            b_q <= 32'd0;
            acc <= 24'sd0;
        end else begin
            a_q <= a;
            b_q <= b;
            acc <= acc + sum;
        end
    end
endmodule
