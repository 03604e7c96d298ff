// Bimetal strip for the Timoshenko check (physics.md 6.1):
// silicon 0.3 mm (layer_top) on copper 0.3 mm (layer_bottom), L = 10 mm.
// Regenerate:  gmsh meshes/bimetal.geo -2 -order 2 -format msh22 -o meshes/bimetal.msh
L = 10.0;  h_top = 0.3;  h_bot = 0.3;
nx = 100;  ny = 4;   // elements along the strip and through each layer

Point(1) = {-L/2, -h_bot, 0};  Point(2) = {L/2, -h_bot, 0};
Point(3) = {L/2, 0, 0};        Point(4) = {-L/2, 0, 0};
Point(5) = {L/2, h_top, 0};    Point(6) = {-L/2, h_top, 0};
Line(1) = {1, 2};  Line(2) = {2, 3};  Line(3) = {3, 4};  Line(4) = {4, 1};
Line(5) = {3, 5};  Line(6) = {5, 6};  Line(7) = {6, 4};
Curve Loop(1) = {1, 2, 3, 4};   Plane Surface(1) = {1};
Curve Loop(2) = {-3, 5, 6, 7};  Plane Surface(2) = {2};
Transfinite Curve {1, 3, 6} = nx + 1;
Transfinite Curve {2, 4, 5, 7} = ny + 1;
Transfinite Surface {1};  Transfinite Surface {2};

Physical Surface("layer_bottom") = {1};
Physical Surface("layer_top") = {2};
Physical Curve("bottom") = {1};
Physical Curve("top") = {6};
Physical Curve("left") = {4, 7};
Physical Curve("right") = {2, 5};
Physical Curve("interface") = {3};
Mesh.ElementOrder = 2;
Mesh.SecondOrderLinear = 1;
