// Must NOT compile: Linear<1, 8> is followed (through an activation) by Linear<4, 1>.
#include <actjit/nn/sequential.hpp>

using namespace actjit::nn;

int main() {
    Sequential<Linear<1, 8>, Act<"relu">, Linear<4, 1>> net;
    return static_cast<int>(net.size());
}
