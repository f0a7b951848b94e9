// Probe design for the physical engine: an 8x8 multiply-accumulate unit with registered
// operands and a 20-bit accumulator (a few hundred sky130hd cells after synthesis).
// Small enough to run floorplan -> signoff in minutes; exercises flip-flops, an array
// multiplier, an adder chain, a synchronous clear and an output register.
module probe_mac (
    input  wire        clk,
    input  wire        rst_n,
    input  wire        en,
    input  wire        clear,
    input  wire [7:0]  a,
    input  wire [7:0]  b,
    output reg  [19:0] acc,
    output reg         valid
);
    reg [7:0] a_q, b_q;
    reg       en_q, clear_q;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            a_q <= 8'd0;
            b_q <= 8'd0;
            en_q <= 1'b0;
            clear_q <= 1'b0;
        end else begin
            a_q <= a;
            b_q <= b;
            en_q <= en;
            clear_q <= clear;
        end
    end

    wire [15:0] product = a_q * b_q;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            acc <= 20'd0;
            valid <= 1'b0;
        end else begin
            valid <= en_q;
            if (clear_q)
                acc <= 20'd0;
            else if (en_q)
                acc <= acc + {4'd0, product};
        end
    end
endmodule
